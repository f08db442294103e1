import { relativeSpread } from '../metrics/stats.js';
import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { formatNumber } from './format.js';

/** One cell's headline figure in two runs of the same suite. */
export interface SpreadRow {
  model: string;
  backend: string;
  scenario: string;
  metric: string;
  first: number;
  second: number;
  /** abs(first - second) / mean(first, second): the relative spread of the two runs. */
  spread: number;
  within: boolean;
}

export interface RunToRun {
  /** Which metrics were compared, e.g. `/^tg\d+_tps$/` (decode tokens/s). */
  metric: string;
  /** The spread a cell may show and count as stable (relative, 0.1 = 10%). */
  limit: number;
  rows: SpreadRow[];
  within: number;
  /** Largest spread over the rows; 0 when there are none. */
  maxSpread: number;
  /** Cells ok in one run only. */
  unmatched: { model: string; backend: string; scenario: string }[];
}

/** Decode tokens/s, the figure the issue's 10% bar is about. */
export const DECODE_METRIC = /^tg\d+_tps$/;

const key = (c: CellResult) => `${c.model}\u0000${c.backend}\u0000${c.scenario}`;

/**
 * Run-to-run stability of two runs of one suite: for every cell ok in both, each metric matching `metric` (default:
 * decode tokens/s) is compared as abs(a - b) / mean(a, b) against `limit` (default 0.1).
 */
export function runToRunSpread(
  first: SuiteResult,
  second: SuiteResult,
  options: { metric?: RegExp; limit?: number } = {},
): RunToRun {
  const metric = options.metric ?? DECODE_METRIC;
  const limit = options.limit ?? 0.1;
  const other = new Map(second.cells.filter((c) => c.status === 'ok').map((c) => [key(c), c]));
  const rows: SpreadRow[] = [];
  const unmatched: RunToRun['unmatched'] = [];
  const seen = new Set<string>();
  for (const a of first.cells) {
    if (a.status !== 'ok') continue;
    seen.add(key(a));
    const b = other.get(key(a));
    const ids = { model: a.model, backend: a.backend, scenario: a.scenario };
    const names = Object.keys(a.metrics).filter((m) => metric.test(m));
    if (!b) {
      if (names.length > 0) unmatched.push(ids);
      continue;
    }
    for (const name of names) {
      const x = a.metrics[name];
      const y = b.metrics[name];
      if (y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue;
      const spread = relativeSpread([x, y]);
      rows.push({ ...ids, metric: name, first: x, second: y, spread, within: spread <= limit });
    }
  }
  for (const b of other.values()) {
    if (!seen.has(key(b)) && Object.keys(b.metrics).some((m) => metric.test(m)))
      unmatched.push({ model: b.model, backend: b.backend, scenario: b.scenario });
  }
  return {
    metric: metric.source,
    limit,
    rows,
    within: rows.filter((r) => r.within).length,
    maxSpread: rows.reduce((m, r) => Math.max(m, r.spread), 0),
    unmatched,
  };
}

function runLine(label: string, r: SuiteResult): string {
  const count = (s: string) => r.cells.filter((c) => c.status === s).length;
  return `- ${label}: ${r.startedAt} to ${r.finishedAt}, ${count('ok')} ok, ${count('failed')} failed, ${count('skipped')} skipped`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The run-to-run table as Markdown (the `reports/quick/run-to-run.md` layout). */
export function renderRunToRun(r: RunToRun, first?: SuiteResult, second?: SuiteResult): string {
  const lines = [`## Run-to-run spread (\`${r.metric}\`, bar ${pct(r.limit)})`, ''];
  if (first && second) lines.push(runLine('run 1', first), runLine('run 2', second), '');
  lines.push(
    '| model | backend | metric | run 1 | run 2 | spread abs(a-b)/mean | within |',
    '| --- | --- | --- | ---: | ---: | ---: | --- |',
  );
  for (const x of r.rows) {
    lines.push(
      `| ${x.model} | ${x.backend} | ${x.metric} | ${formatNumber(x.first)} | ${formatNumber(x.second)} | ${pct(x.spread)} | ${x.within ? 'yes' : '**no**'} |`,
    );
  }
  lines.push('', `${r.within} of ${r.rows.length} cells within ${pct(r.limit)}; largest spread ${pct(r.maxSpread)}.`);
  if (r.unmatched.length > 0) {
    lines.push(
      `Not compared (ok in one run only): ${r.unmatched.map((u) => `${u.model} × ${u.backend} × ${u.scenario}`).join(', ')}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
