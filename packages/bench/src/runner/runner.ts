import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableCpuCores } from '@slmkit/core/node';
import { tokenAgreementRows } from '../report/agreement-rows.js';
import { expandCells, type LoadedSuite, type SkippedCell } from '../suite/suite-file.js';
import type { Cell, RunSettings } from '../suite/suite-types.js';
import { runCellInChild } from './child-process.js';
import { type CpuPinning, describePinning, planCpuPinning } from './cpu-affinity.js';
import { machineInfo } from './machine-info.js';
import { cellsToPrepare } from './prepare-cells.js';
import type { CellResult, SuiteResult } from './result-types.js';
import { type RunningServer, startServer } from './servers.js';

export type RunnerEvent =
  | { type: 'start'; total: number; skipped: SkippedCell[] }
  | { type: 'server'; id: string; status: 'started' | 'failed'; error?: string }
  | { type: 'cell-start'; index: number; total: number; cell: Cell }
  | { type: 'cell-prepared'; index: number; total: number; cell: Cell; wallMs: number; error?: string }
  | { type: 'cell-end'; index: number; total: number; result: CellResult };

export interface RunSuiteOptions {
  suite: LoadedSuite;
  /** Where results.jsonl is appended as cells finish (created if needed). */
  outDir: string;
  /** Where generated / converted models are cached. */
  cacheDir: string;
  /** Settings that override the suite's (e.g. from the command line). */
  overrides?: Partial<RunSettings>;
  signal?: AbortSignal;
  onEvent?: (event: RunnerEvent) => void;
  /** How long a worker may take to start before its cell fails. */
  startupTimeoutMs?: number;
  /** Pin each measuring child to one CPU when threads is 1 (default true; see cpu-affinity.ts). */
  pinCpu?: boolean;
}

/**
 * Runs every cell of a suite, each in its own child process, one after another (so cells never compete for
 * cores); writes `results.jsonl` as it goes and returns the whole result with machine info and agreement rows.
 * A failed cell (error, crash, timeout) is recorded and the run goes on; an abort stops it after the running cell.
 * Where a cell's first load would generate or convert its model, a preparation child does that first (see
 * prepare-cells.ts), so the measured child's load time and peak RSS are those of loading from the cache. With one
 * thread per backend, measuring children are pinned to one CPU (cpu-affinity.ts).
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteResult> {
  const { suite } = options;
  const startedAt = new Date().toISOString();
  const threads = options.overrides?.threads ?? suite.suite.settings?.threads ?? availableCpuCores();
  const { cells, skipped } = expandCells(suite, options.cacheDir, { ...options.overrides, threads });
  const pinning: CpuPinning =
    options.pinCpu === false ? { reason: 'not pinned: turned off (--no-pin)' } : planCpuPinning(threads);
  const prepare = cellsToPrepare(cells);
  await mkdir(options.outDir, { recursive: true });
  const jsonl = join(options.outDir, 'results.jsonl');
  await writeFile(jsonl, '');
  const results: CellResult[] = [];
  const name = suite.suite.name;
  for (const s of skipped) {
    const result: CellResult = {
      suite: name,
      ...s,
      scenarioType: '',
      status: 'skipped',
      error: s.reason,
      wallMs: 0,
      metrics: {},
    };
    results.push(result);
    await appendFile(jsonl, `${JSON.stringify(result)}\n`);
  }
  options.onEvent?.({ type: 'start', total: cells.length, skipped });
  const servers: RunningServer[] = [];
  try {
    for (const entry of suite.suite.servers ?? []) {
      try {
        servers.push(await startServer(entry, suite.dir, options.signal));
        options.onEvent?.({ type: 'server', id: entry.id, status: 'started' });
      } catch (error) {
        // The cells that use it fail with "cannot reach the server"; the rest of the suite runs.
        options.onEvent?.({ type: 'server', id: entry.id, status: 'failed', error: (error as Error).message });
      }
    }
    for (const cell of cells) {
      if (options.signal?.aborted) break;
      options.onEvent?.({ type: 'cell-start', index: cell.index, total: cells.length, cell });
      if (prepare.has(cell.index)) {
        // One-time generation / conversion in its own child; a failure here shows again in the measured cell.
        const prep = await runCellInChild(cell, {
          signal: options.signal,
          startupTimeoutMs: options.startupTimeoutMs,
          prepareOnly: true,
        });
        options.onEvent?.({
          type: 'cell-prepared',
          index: cell.index,
          total: cells.length,
          cell,
          wallMs: prep.wallMs,
          ...(prep.outcome.status === 'ok' ? {} : { error: prep.outcome.error }),
        });
        if (options.signal?.aborted) break;
      }
      // The parent only waits while a child measures: no timers, no progress redraws (one line per cell event).
      const run = await runCellInChild(cell, {
        signal: options.signal,
        startupTimeoutMs: options.startupTimeoutMs,
        pinning,
      });
      const result: CellResult = { suite: name, ...run.outcome, wallMs: run.wallMs };
      results.push(result);
      await appendFile(jsonl, `${JSON.stringify(result)}\n`);
      options.onEvent?.({ type: 'cell-end', index: cell.index, total: cells.length, result });
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const settings = cells[0]?.settings ?? { ...suite.suite.settings, threads };
  return {
    suite: name,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo({ cpuPinning: describePinning(pinning) }),
    settings: { ...settings },
    cells: results,
    agreement: tokenAgreementRows(results, settings.agreementReference ?? suite.suite.backends[0].id),
  };
}
