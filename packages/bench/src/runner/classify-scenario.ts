import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type LabelledText, parseLabelledTsv, throwIfAborted } from '@slmkit/core';
import { classificationAccuracy } from '../metrics/classification.js';
import { distribution } from '../metrics/stats.js';
import type { ClassifyScenario } from '../suite/suite-types.js';
import type { ScenarioOutput } from './scenarios.js';

/** What a classify cell measures: one label per text, `texts` handled as one batch as the implementation batches. */
export interface SentenceClassifier {
  classify(texts: readonly string[], signal?: AbortSignal): Promise<string[]>;
}

export const DEFAULT_LATENCY_SENTENCES = 200;
export const DEFAULT_CLASSIFY_BATCH = 32;
const WARMUP_SENTENCES = 3;

/** The scenario's labelled rows (first `limit`). */
export async function readClassifyRows(scenario: ClassifyScenario): Promise<LabelledText[]> {
  const rows = parseLabelledTsv(await readFile(scenario.file, 'utf8'), { file: scenario.file });
  const limited = scenario.limit === undefined ? rows : rows.slice(0, scenario.limit);
  if (limited.length === 0)
    throw new InvalidArgumentError('the classify file has no rows', { file: scenario.file, field: 'limit' });
  return limited;
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('must be a positive integer', { field, value });
  return value;
}

/**
 * Accuracy and throughput from one pass over every row in calls of `batchSize` texts, then latency per sentence from
 * single-text calls on the first `latencySentences` rows (after a few untimed ones).
 */
export async function runClassify(
  classifier: SentenceClassifier,
  scenario: ClassifyScenario,
  rows: readonly LabelledText[],
  signal?: AbortSignal,
): Promise<ScenarioOutput & { predictions: string[] }> {
  const batch = positiveInteger(scenario.batchSize ?? DEFAULT_CLASSIFY_BATCH, `scenarios.${scenario.id}.batchSize`);
  const nLatency = Math.min(
    rows.length,
    positiveInteger(
      scenario.latencySentences ?? DEFAULT_LATENCY_SENTENCES,
      `scenarios.${scenario.id}.latencySentences`,
    ),
  );
  const texts = rows.map((r) => r.text);
  await classifier.classify(texts.slice(0, Math.min(batch, texts.length)), signal); // warm-up at the batch shape
  const predictions: string[] = [];
  const started = performance.now();
  for (let i = 0; i < texts.length; i += batch) {
    throwIfAborted(signal, 'classify');
    const labels = await classifier.classify(texts.slice(i, i + batch), signal);
    if (labels.length !== Math.min(batch, texts.length - i))
      throw new InvalidArgumentError(`the classifier returned ${labels.length} labels for a batch`, {
        field: 'predictions',
      });
    predictions.push(...labels);
  }
  const batchedSeconds = (performance.now() - started) / 1000;
  for (let i = 0; i < Math.min(WARMUP_SENTENCES, nLatency); i++) await classifier.classify([texts[i]], signal);
  const latencies: number[] = [];
  for (let i = 0; i < nLatency; i++) {
    throwIfAborted(signal, 'classify');
    const t = performance.now();
    await classifier.classify([texts[i]], signal);
    latencies.push(performance.now() - t);
  }
  const latency = distribution(latencies);
  return {
    metrics: {
      acc: classificationAccuracy(
        predictions,
        rows.map((r) => r.label),
      ),
      items: rows.length,
      latency_ms_mean: latency.mean,
      latency_ms_p50: latency.p50,
      latency_ms_p90: latency.p90,
      latency_sentences: nLatency,
      batch_size: batch,
      throughput_sps: rows.length / batchedSeconds,
    },
    distributions: { latency_ms: latency },
    predictions,
  };
}
