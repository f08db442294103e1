import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableCpuCores } from '@slmkit/core/node';
import { tokenAgreementRows } from '../report/agreement-rows.js';
import { expandCells, type LoadedSuite, type SkippedCell } from '../suite/suite-file.js';
import type { Cell, RunSettings } from '../suite/suite-types.js';
import { runCellInChild } from './child-process.js';
import { machineInfo } from './machine-info.js';
import type { CellResult, SuiteResult } from './result-types.js';
import { type RunningServer, startServer } from './servers.js';

export type RunnerEvent =
  | { type: 'start'; total: number; skipped: SkippedCell[] }
  | { type: 'server'; id: string; status: 'started' | 'failed'; error?: string }
  | { type: 'cell-start'; index: number; total: number; cell: Cell }
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
}

/**
 * Runs every cell of a suite, each in its own child process, one after another (so cells never compete for
 * cores); writes `results.jsonl` as it goes and returns the whole result with machine info and agreement rows.
 * A failed cell (error, crash, timeout) is recorded and the run goes on; an abort stops it after the running cell.
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteResult> {
  const { suite } = options;
  const startedAt = new Date().toISOString();
  const threads = options.overrides?.threads ?? suite.suite.settings?.threads ?? availableCpuCores();
  const { cells, skipped } = expandCells(suite, options.cacheDir, { ...options.overrides, threads });
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
      const run = await runCellInChild(cell, { signal: options.signal, startupTimeoutMs: options.startupTimeoutMs });
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
    machine: machineInfo(),
    settings: { ...settings },
    cells: results,
    agreement: tokenAgreementRows(results, settings.agreementReference ?? suite.suite.backends[0].id),
  };
}
