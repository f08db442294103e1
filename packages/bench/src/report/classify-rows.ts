import { predictionAgreement } from '../metrics/classification.js';
import type { CellResult } from '../runner/result-types.js';

export interface ClassifyRow {
  model: string;
  backend: string;
  scenario: string;
  /** What ran (lexicon package, backend). */
  runtime?: string;
  parameters?: number;
  modelBytes?: number;
  acc: number;
  items: number;
  latencyMsMean: number;
  latencyMsP50: number;
  latencyMsP90: number;
  batchSize: number;
  throughputSps: number;
  peakRssBytes?: number;
  /** Share of rows with the reference backend's label (same model and scenario); absent for the reference itself. */
  agreement?: number;
  agreementWith?: string;
  lexicon: boolean;
}

/** The teacher-vs-student comparison of one (teacher, student, backend, scenario): DistilBERT's table. */
export interface DistilRow {
  teacher: string;
  student: string;
  backend: string;
  scenario: string;
  teacherParameters?: number;
  studentParameters?: number;
  /** student / teacher parameters. */
  parameterRatio?: number;
  teacherAcc: number;
  studentAcc: number;
  /** student / teacher accuracy. */
  accRatio: number;
  /** teacher / student median latency per sentence at batch 1. */
  speedup: number;
  /** student / teacher sentences per second in batches. */
  throughputRatio: number;
}

const isClassify = (c: CellResult) => c.status === 'ok' && c.scenarioType === 'classify';

/** Reference backend for prediction agreement: `preferred` when it ran classify cells, else the first that did. */
function referenceBackend(cells: readonly CellResult[], preferred?: string): string | undefined {
  const backends = cells.filter((c) => c.runtime?.weightType !== 'lexicon').map((c) => c.backend);
  if (preferred && backends.includes(preferred)) return preferred;
  return backends[0];
}

export function classifyRows(cells: readonly CellResult[], preferredReference = 'reference'): ClassifyRow[] {
  const ok = cells.filter(isClassify);
  const reference = referenceBackend(ok, preferredReference);
  return ok.map((c) => {
    const lexicon = c.runtime?.weightType === 'lexicon';
    const ref = lexicon
      ? undefined
      : ok.find((r) => r.backend === reference && r.model === c.model && r.scenario === c.scenario);
    const agreement =
      ref && ref !== c && ref.predictions && c.predictions && ref.predictions.length === c.predictions.length
        ? predictionAgreement(ref.predictions, c.predictions)
        : undefined;
    return {
      model: c.model,
      backend: c.backend,
      scenario: c.scenario,
      runtime: c.runtime?.backend,
      parameters: c.metrics.parameters,
      modelBytes: c.metrics.model_bytes,
      acc: c.metrics.acc,
      items: c.metrics.items,
      latencyMsMean: c.metrics.latency_ms_mean,
      latencyMsP50: c.metrics.latency_ms_p50,
      latencyMsP90: c.metrics.latency_ms_p90,
      batchSize: c.metrics.batch_size,
      throughputSps: c.metrics.throughput_sps,
      peakRssBytes: c.metrics.peak_rss_bytes,
      ...(agreement !== undefined ? { agreement, agreementWith: reference } : {}),
      lexicon,
    };
  });
}

/** Every student cell (model_info.distilledFrom) beside its teacher's cell on the same backend and scenario. */
export function distilRows(cells: readonly CellResult[]): DistilRow[] {
  const ok = cells.filter(isClassify);
  const rows: DistilRow[] = [];
  for (const s of ok) {
    const teacherId = s.model_info?.distilledFrom;
    if (!teacherId) continue;
    const t = ok.find((c) => c.model === teacherId && c.backend === s.backend && c.scenario === s.scenario);
    if (!t) continue;
    const tp = t.metrics.parameters;
    const sp = s.metrics.parameters;
    rows.push({
      teacher: t.model,
      student: s.model,
      backend: s.backend,
      scenario: s.scenario,
      teacherParameters: tp,
      studentParameters: sp,
      ...(tp && sp ? { parameterRatio: sp / tp } : {}),
      teacherAcc: t.metrics.acc,
      studentAcc: s.metrics.acc,
      accRatio: s.metrics.acc / t.metrics.acc,
      speedup: t.metrics.latency_ms_p50 / s.metrics.latency_ms_p50,
      throughputRatio: s.metrics.throughput_sps / t.metrics.throughput_sps,
    });
  }
  return rows;
}
