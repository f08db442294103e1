import { spawn } from 'node:child_process';
import { BackendError, throwIfAborted } from '@slmkit/core';

export interface CommandRun {
  wallMs: number;
  /** Numbers from the last stdout line that parses as a JSON object (e.g. `{"tg_tps": 812.5}`). */
  reported: Record<string, number>;
}

/** Replaces `{name}` placeholders in every argument. */
export function fillPlaceholders(
  argv: readonly string[],
  values: Record<string, string | number | undefined>,
): string[] {
  return argv.map((arg) =>
    arg.replace(/\{(\w+)\}/g, (whole, key: string) => {
      const value = values[key];
      if (value === undefined)
        throw new BackendError(`the command uses {${key}}, which this cell does not provide`, {
          field: 'command',
          value: whole,
        });
      return String(value);
    }),
  );
}

function lastJsonObject(stdout: string): Record<string, number> {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const out: Record<string, number> = {};
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
        return out;
      }
    } catch {
      // not JSON: keep looking
    }
  }
  return {};
}

/** Runs an external command once (e.g. a native llama.cpp build): wall time plus the numbers it reports. */
export async function runCommandOnce(
  argv: readonly string[],
  options: { cwd?: string; signal?: AbortSignal },
): Promise<CommandRun> {
  throwIfAborted(options.signal);
  const started = performance.now();
  return new Promise<CommandRun>((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', (error) =>
      reject(new BackendError(`cannot run ${argv[0]}: ${error.message}`, { field: 'command', cause: error })),
    );
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      if (code !== 0) {
        reject(
          new BackendError(`${argv[0]} exited with ${signal ?? code}: ${stderr.trim().slice(-500)}`, {
            field: 'command',
            value: code,
          }),
        );
        return;
      }
      resolvePromise({ wallMs, reported: lastJsonObject(stdout) });
    });
  });
}
