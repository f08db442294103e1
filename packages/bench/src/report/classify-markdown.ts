import type { CellResult } from '../runner/result-types.js';
import { classifyRows, distilRows } from './classify-rows.js';
import { formatBytes, formatCount, formatNumber } from './format.js';
import { table } from './markdown-table.js';

const pct = (v: number | undefined, digits = 2) =>
  v === undefined || !Number.isFinite(v) ? '' : `${(v * 100).toFixed(digits)}%`;
/** Accuracies get three decimals: over SST-2's 872 rows one sentence is 0.115 points, so 715/872 (81.995%) must not
 * read as 82.00%. */
const accuracy = (v: number | undefined) => pct(v, 3);

/** Batching per backend, as each cell's runtime reported it. */
function batchingNotes(cells: readonly CellResult[]): string {
  const notes = new Map<string, string>();
  for (const c of cells) {
    const b = c.runtime?.details?.batching;
    if (c.status === 'ok' && c.scenarioType === 'classify' && typeof b === 'string') notes.set(c.backend, b);
  }
  return [...notes].map(([backend, b]) => `- ${backend}: ${b}`).join('\n');
}

/** "Text classification" and "Teacher vs student" sections, or '' when no classify cell ran. */
export function classifySections(cells: readonly CellResult[]): string {
  const rows = classifyRows(cells);
  if (rows.length === 0) return '';
  const main = table(
    [
      'model',
      'backend',
      'scenario',
      'params',
      'size',
      'accuracy',
      'items',
      'ms/sentence mean / p50 / p90 (batch 1)',
      'sentences/s (batch)',
      'peak RSS',
      'same label as',
    ],
    rows.map((r) => [
      r.lexicon ? `${r.runtime ?? r.backend} (lexicon)` : r.model,
      r.backend,
      r.scenario,
      formatCount(r.parameters),
      formatBytes(r.modelBytes),
      accuracy(r.acc),
      String(r.items),
      `${formatNumber(r.latencyMsMean, 3)} / ${formatNumber(r.latencyMsP50, 3)} / ${formatNumber(r.latencyMsP90, 3)}`,
      `${formatNumber(r.throughputSps, 1)} (${r.batchSize})`,
      formatBytes(r.peakRssBytes),
      r.agreement === undefined ? '' : `${pct(r.agreement)} (${r.agreementWith})`,
    ]),
  );
  const distil = distilRows(cells);
  const distilTable =
    distil.length === 0
      ? ''
      : `\n## Teacher vs student (DistilBERT-style)\n\nSpeed-up: teacher / student median ms per sentence at batch 1; throughput ratio: student / teacher sentences/s in batches; both on the same backend in the same run.\n\n${table(
          [
            'teacher -> student',
            'backend',
            'params (student / teacher)',
            'accuracy teacher / student',
            'student % of teacher accuracy',
            'speed-up per sentence',
            'throughput ratio',
          ],
          distil.map((d) => [
            `${d.teacher} -> ${d.student}`,
            d.backend,
            `${formatCount(d.studentParameters)} / ${formatCount(d.teacherParameters)} (${pct(d.parameterRatio)})`,
            `${accuracy(d.teacherAcc)} / ${accuracy(d.studentAcc)}`,
            pct(d.accRatio),
            `${formatNumber(d.speedup)}x`,
            `${formatNumber(d.throughputRatio)}x`,
          ]),
        )}\n`;
  const notes = batchingNotes(cells);
  return `## Text classification\n\nAccuracy over every row of the scenario's file; latency: one text per call; throughput: every row in calls of the batch size. "same label as": share of rows labelled as on the reference backend.\n\n${main}\n${notes ? `\nBatching:\n\n${notes}\n` : ''}${distilTable}`;
}
