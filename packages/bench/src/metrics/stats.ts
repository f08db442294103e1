import { InvalidArgumentError } from '@slmkit/core';

/** Summary of repeated measurements (llama-bench reports mean ± stdev; MLPerf-style reports add percentiles). */
export interface Distribution {
  count: number;
  mean: number;
  /** Sample standard deviation (n - 1 denominator); 0 for a single value. */
  stdev: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
}

function requireValues(values: readonly number[], field: string): void {
  if (values.length === 0) throw new InvalidArgumentError('needs at least one value', { field });
  for (const v of values) {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(`holds a non-finite value ${v}`, { field, value: v });
  }
}

export function mean(values: readonly number[]): number {
  requireValues(values, 'mean');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (Bessel-corrected); 0 when there is one value. */
export function stdev(values: readonly number[]): number {
  requireValues(values, 'stdev');
  if (values.length < 2) return 0;
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) * (v - m);
  return Math.sqrt(sq / (values.length - 1));
}

/**
 * Percentile `q` (0..100) with linear interpolation between closest ranks: position (n - 1) * q / 100 in the
 * sorted values (NumPy's default `linear` method).
 */
export function percentile(values: readonly number[], q: number): number {
  requireValues(values, 'percentile');
  if (!(q >= 0 && q <= 100)) throw new InvalidArgumentError(`must be in 0..100, got ${q}`, { field: 'q', value: q });
  const sorted = [...values].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The median (percentile 50): the headline figure of repeated timings, robust to one slow outlier repetition. */
export function median(values: readonly number[]): number {
  requireValues(values, 'median');
  return percentile(values, 50);
}

export function distribution(values: readonly number[]): Distribution {
  requireValues(values, 'distribution');
  return {
    count: values.length,
    mean: mean(values),
    stdev: stdev(values),
    min: Math.min(...values),
    max: Math.max(...values),
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
  };
}

/** Relative spread of a set of run means: (max - min) / mean; used for the run-to-run stability check. */
export function relativeSpread(values: readonly number[]): number {
  requireValues(values, 'relativeSpread');
  const m = mean(values);
  return m === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / m;
}
