import { describe, expect, it } from 'vitest';
import { distribution, mean, median, percentile, relativeSpread, stdev } from './stats.js';

describe('stats', () => {
  it('matches NumPy linear percentiles', () => {
    // numpy.percentile([1, 2, 3, 4, 10], [50, 90, 99]) -> [3, 7.6, 9.76]
    const v = [10, 1, 4, 3, 2];
    expect(percentile(v, 50)).toBe(3);
    expect(percentile(v, 90)).toBeCloseTo(7.6, 12);
    expect(percentile(v, 99)).toBeCloseTo(9.76, 12);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 100)).toBe(10);
    expect(percentile([5], 99)).toBe(5);
  });

  it('computes mean and sample standard deviation', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    // sample stdev of the same values: sqrt(32 / 7)
    expect(stdev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(stdev([3])).toBe(0);
    const d = distribution([1, 2, 3, 4]);
    expect(d).toMatchObject({ count: 4, mean: 2.5, min: 1, max: 4, p50: 2.5 });
    expect(relativeSpread([90, 100, 110])).toBeCloseTo(0.2, 12);
  });

  it('takes the median as the headline, unmoved by one disturbed repetition', () => {
    // Five decode rates, one repetition slowed by another process: the mean drops 16%, the median not at all.
    const rates = [1000, 1010, 990, 1005, 200];
    expect(median(rates)).toBe(1000);
    expect(mean(rates)).toBeCloseTo(841, 12);
    expect(median([1, 2, 3, 4])).toBe(2.5);
  });

  it('rejects empty and non-finite input', () => {
    expect(() => mean([])).toThrow(/at least one value/);
    expect(() => median([])).toThrow(/at least one value/);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(/non-finite/);
    expect(() => percentile([1], 101)).toThrow(/0\.\.100/);
  });
});
