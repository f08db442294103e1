import type { CellResult, SuiteResult } from '../runner/result-types.js';

/** One row per (model, backend): the metrics of all its scenarios merged (the SLM-vs-LLM view). */
export interface ModelBackendRow {
  model: string;
  backend: string;
  role: 'slm' | 'llm';
  /** A random-weight model (quality not meaningful). */
  generated: boolean;
  parameters?: number;
  modelBytes?: number;
  peakRssBytes?: number;
  acceleratorBytes?: number;
  loadMs?: number;
  ttftMs?: number;
  decodeTps?: number;
  tpotMs?: number;
  ppl?: number;
  bpb?: number;
  acc?: number;
  agreement?: number;
}

/** The first metric whose name matches `pattern` (e.g. the `tg32_tps` of a speed cell). */
export function metricLike(cell: CellResult, pattern: RegExp): number | undefined {
  for (const [k, v] of Object.entries(cell.metrics)) if (pattern.test(k)) return v;
  return undefined;
}

export function modelBackendRows(result: SuiteResult): ModelBackendRow[] {
  const rows = new Map<string, ModelBackendRow>();
  for (const cell of result.cells) {
    if (cell.status !== 'ok') continue;
    const key = `${cell.model}\u0000${cell.backend}`;
    const row = rows.get(key) ?? {
      model: cell.model,
      backend: cell.backend,
      role: cell.model_info?.role ?? 'slm',
      generated: cell.model_info?.generated === true,
    };
    if (cell.model_info?.generated) row.generated = true;
    const m = cell.metrics;
    row.parameters ??= m.parameters;
    row.modelBytes ??= m.model_bytes;
    if (m.peak_rss_bytes !== undefined) row.peakRssBytes = Math.max(row.peakRssBytes ?? 0, m.peak_rss_bytes);
    row.acceleratorBytes ??= m.accelerator_bytes;
    row.loadMs ??= m.load_ms;
    if (cell.scenarioType === 'speed') {
      row.ttftMs = m.ttft_ms;
      row.decodeTps = metricLike(cell, /^tg\d+_tps$/);
      row.tpotMs = m.tpot_ms_p50;
    }
    if (cell.scenarioType === 'perplexity') {
      row.ppl = m.ppl;
      row.bpb = m.bpb;
    }
    if (cell.scenarioType === 'choice') row.acc = m.acc;
    // A classifier's task accuracy is its quality figure when no multiple-choice scenario gave one.
    if (cell.scenarioType === 'classify') row.acc ??= m.acc;
    rows.set(key, row);
  }
  for (const a of result.agreement) {
    const row = rows.get(`${a.model}\u0000${a.backend}`);
    if (row) row.agreement = row.agreement === undefined ? a.tokenAgreement : Math.min(row.agreement, a.tokenAgreement);
  }
  return [...rows.values()];
}

/** Perplexity agreement across backends: for each (model, perplexity scenario), the spread of `ppl`. */
export interface PerplexitySpread {
  model: string;
  scenario: string;
  backends: number;
  min: number;
  max: number;
  /** (max - min) / min */
  relative: number;
}

export function perplexitySpread(result: SuiteResult): PerplexitySpread[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of result.cells) {
    if (c.status !== 'ok' || c.scenarioType !== 'perplexity' || c.metrics.ppl === undefined) continue;
    const key = `${c.model}\u0000${c.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out: PerplexitySpread[] = [];
  for (const cells of groups.values()) {
    if (cells.length < 2) continue;
    const values = cells.map((c) => c.metrics.ppl);
    const min = Math.min(...values);
    const max = Math.max(...values);
    out.push({
      model: cells[0].model,
      scenario: cells[0].scenario,
      backends: cells.length,
      min,
      max,
      relative: (max - min) / min,
    });
  }
  return out;
}
