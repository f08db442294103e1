import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cell } from '../suite/suite-types.js';
import { type CpuPinning, pinProcess } from './cpu-affinity.js';
import type { CellOutcome } from './run-cell.js';

/** How long a child may take to start (imports, runtime initialisation) before it is reported as failed. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 120_000;

export interface ChildRun {
  outcome: CellOutcome;
  wallMs: number;
}

/**
 * The worker module and the Node flags to fork it with. From built JavaScript (dist) it is `worker.js` as is;
 * from TypeScript sources (tests, a source checkout) it is `worker.ts` run through scripts/ts-source-loader.mjs
 * with the "source" export condition. `--expose-gc` lets the worker collect garbage before each timed run.
 */
export function workerCommand(): { module: string; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    return {
      module: fileURLToPath(new URL('./worker.ts', self)),
      execArgv: [
        '--expose-gc',
        '--conditions=source',
        '--import',
        new URL('../../scripts/ts-source-loader.mjs', self).href,
      ],
    };
  }
  return { module: fileURLToPath(new URL('./worker.js', self)), execArgv: ['--expose-gc'] };
}

function failedOutcome(cell: Cell, error: string): CellOutcome {
  return {
    model: cell.model.id,
    backend: cell.backend.id,
    scenario: cell.scenario.id,
    scenarioType: cell.scenario.type,
    status: 'failed',
    error,
    metrics: {},
    model_info: { role: cell.model.role ?? 'slm' },
  };
}

/**
 * Runs one cell in a fresh child process (clean RSS, crash isolation). The cell's `timeoutMs` starts when the
 * child reports ready; on timeout or abort the child is killed (SIGKILL) and the cell reported as failed, as it
 * is when the child exits without a result (crash, out of memory, native abort).
 */
export function runCellInChild(
  cell: Cell,
  options: {
    signal?: AbortSignal;
    startupTimeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    pinning?: CpuPinning;
    /** Only open the cell's model (fill the generation / conversion caches); measure nothing. */
    prepareOnly?: boolean;
  } = {},
): Promise<ChildRun> {
  const { module, execArgv } = workerCommand();
  const started = performance.now();
  return new Promise<ChildRun>((resolve) => {
    let child: ChildProcess;
    let settled = false;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    let pinnedCpu: number | string | undefined;
    const finish = (outcome: CellOutcome) => {
      if (settled) return;
      settled = true;
      if (pinnedCpu !== undefined && outcome.runtime)
        outcome.runtime.details = { ...outcome.runtime.details, pinnedCpu };
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve({ outcome, wallMs: performance.now() - started });
    };
    const onAbort = () => finish(failedOutcome(cell, 'aborted'));
    const arm = (ms: number, what: string) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(failedOutcome(cell, `${what} after ${ms} ms (killed)`)), ms);
    };
    try {
      child = fork(module, [], {
        execArgv,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        env: options.env ?? process.env,
      });
    } catch (error) {
      resolve({ outcome: failedOutcome(cell, `cannot start the worker: ${(error as Error).message}`), wallMs: 0 });
      return;
    }
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-1500);
    });
    arm(options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS, 'the worker did not start');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.on('message', (message: { type: string; outcome?: CellOutcome; message?: string }) => {
      if (message.type === 'ready') {
        // Pin before the cell starts, so threads the runtime creates later inherit the affinity.
        const cpu = options.pinning?.cpu;
        if (cpu !== undefined && child.pid !== undefined) pinnedCpu = pinProcess(child.pid, cpu) ?? cpu;
        arm(cell.settings.timeoutMs, 'timed out');
        child.send({ type: 'run', cell, prepareOnly: options.prepareOnly === true });
      } else if (message.type === 'result' && message.outcome) {
        finish(message.outcome);
      } else if (message.type === 'error') {
        finish(failedOutcome(cell, message.message ?? 'worker error'));
      }
    });
    child.on('error', (error) => finish(failedOutcome(cell, `worker error: ${error.message}`)));
    child.on('exit', (code, signal) => {
      // Give a result already in flight a moment to arrive before calling it a crash.
      setTimeout(() => {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        finish(
          failedOutcome(
            cell,
            `crashed: the worker exited with ${signal ?? `code ${code}`} before reporting${tail ? ` (${tail})` : ''}`,
          ),
        );
      }, 100);
    });
  });
}
