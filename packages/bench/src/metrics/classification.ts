import { InvalidArgumentError } from '@slmkit/core';

/** Fraction of `predictions` equal to `gold` (same order). */
export function classificationAccuracy(predictions: readonly string[], gold: readonly string[]): number {
  if (predictions.length === 0)
    throw new InvalidArgumentError('no predictions to score', { field: 'predictions', value: 0 });
  if (predictions.length !== gold.length) {
    throw new InvalidArgumentError(`${predictions.length} predictions for ${gold.length} gold labels`, {
      field: 'predictions',
      value: predictions.length,
    });
  }
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (predictions[i] === gold[i]) correct++;
  return correct / gold.length;
}

/** Fraction of items two classifiers label the same (cross-backend agreement). */
export function predictionAgreement(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length || a.length === 0) {
    throw new InvalidArgumentError(`cannot compare ${a.length} predictions with ${b.length}`, {
      field: 'predictions',
      value: [a.length, b.length],
    });
  }
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** A lexicon's polarity score to a label: >= 0 is positive (neutral counts as positive, as the SST-2 runs did). */
export function polarityLabel(score: number, positive: string, negative: string): string {
  if (!Number.isFinite(score)) throw new InvalidArgumentError(`score ${score} is not finite`, { field: 'score' });
  return score >= 0 ? positive : negative;
}
