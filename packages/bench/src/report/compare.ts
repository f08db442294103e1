import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { formatNumber } from './format.js';
import { type RunToRun, renderRunToRun, runToRunSpread } from './run-to-run.js';

/** Whether a larger value of a metric is better (speed, accuracy) or worse (latency, perplexity, memory). */
export function higherIsBetter(metric: string): boolean | undefined {
  if (/_(tps|sps)$/.test(metric) || metric === 'acc' || metric === 'acc_norm') return true;
  if (
    /_ms(_|$)/.test(metric) ||
    metric === 'ppl' ||
    metric === 'bpb' ||
    metric === 'peak_rss_bytes' ||
    metric === 'nll_mean' ||
    metric === 'accelerator_bytes'
  )
    return false;
  return undefined;
}

export interface MetricChange {
  model: string;
  backend: string;
  scenario: string;
  metric: string;
  before: number;
  after: number;
  /** (after - before) / before */
  relative: number;
  verdict: 'regression' | 'improvement' | 'same';
}

export interface Comparison {
  changes: MetricChange[];
  regressions: MetricChange[];
  /** Cells ok in the baseline but not ok now. */
  newlyFailed: { model: string; backend: string; scenario: string; error?: string }[];
  /** Run-to-run spread of decode tokens/s per cell, against the same threshold (see run-to-run.ts). */
  spread: RunToRun;
}

const key = (c: CellResult) => `${c.model}\u0000${c.backend}\u0000${c.scenario}`;

/**
 * Compares two suite results cell by cell: a metric with a known direction that got worse by more than
 * `threshold` (relative, default 0.1) is a regression.
 */
export function compareResults(before: SuiteResult, after: SuiteResult, threshold = 0.1): Comparison {
  const base = new Map(before.cells.map((c) => [key(c), c]));
  const changes: MetricChange[] = [];
  const newlyFailed: Comparison['newlyFailed'] = [];
  for (const cell of after.cells) {
    const old = base.get(key(cell));
    if (old?.status !== 'ok') continue;
    if (cell.status !== 'ok') {
      newlyFailed.push({ model: cell.model, backend: cell.backend, scenario: cell.scenario, error: cell.error });
      continue;
    }
    for (const [metric, a] of Object.entries(cell.metrics)) {
      const direction = higherIsBetter(metric);
      const b = old.metrics[metric];
      if (direction === undefined || b === undefined || b === 0) continue;
      const relative = (a - b) / Math.abs(b);
      const worse = direction ? relative < -threshold : relative > threshold;
      const better = direction ? relative > threshold : relative < -threshold;
      changes.push({
        model: cell.model,
        backend: cell.backend,
        scenario: cell.scenario,
        metric,
        before: b,
        after: a,
        relative,
        verdict: worse ? 'regression' : better ? 'improvement' : 'same',
      });
    }
  }
  return {
    changes,
    regressions: changes.filter((c) => c.verdict === 'regression'),
    newlyFailed,
    spread: runToRunSpread(before, after, { limit: threshold }),
  };
}

export function renderComparison(c: Comparison, threshold: number): string {
  const lines = [`# slm bench compare (threshold ${(threshold * 100).toFixed(0)}%)`, ''];
  lines.push(
    `${c.regressions.length} regressions, ${c.changes.filter((x) => x.verdict === 'improvement').length} improvements, ${c.newlyFailed.length} newly failed cells`,
    '',
  );
  lines.push(
    '| model | backend | scenario | metric | before | after | change | verdict |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | --- |',
  );
  const order = { regression: 0, improvement: 1, same: 2 };
  for (const x of [...c.changes].sort((p, q) => order[p.verdict] - order[q.verdict])) {
    lines.push(
      `| ${x.model} | ${x.backend} | ${x.scenario} | ${x.metric} | ${formatNumber(x.before)} | ${formatNumber(x.after)} | ${(x.relative * 100).toFixed(1)}% | ${x.verdict} |`,
    );
  }
  for (const f of c.newlyFailed)
    lines.push(`| ${f.model} | ${f.backend} | ${f.scenario} | (cell) | ok | failed | | regression: ${f.error ?? ''} |`);
  if (c.spread.rows.length > 0) lines.push('', renderRunToRun(c.spread).trimEnd());
  return `${lines.join('\n')}\n`;
}
