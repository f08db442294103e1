import { describe, expect, it } from 'vitest';
import { classificationAccuracy, polarityLabel, predictionAgreement } from './classification.js';

describe('classification metrics', () => {
  it('scores accuracy and agreement and rejects mismatched lengths', () => {
    expect(classificationAccuracy(['1', '0', '1', '1'], ['1', '1', '1', '0'])).toBe(0.5);
    expect(() => classificationAccuracy(['1'], ['1', '0'])).toThrow(/1 predictions for 2 gold labels/);
    expect(() => classificationAccuracy([], [])).toThrow(/no predictions/);
    expect(predictionAgreement(['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'x'])).toBe(0.75);
    expect(() => predictionAgreement(['a'], [])).toThrow(/cannot compare 1 predictions with 0/);
  });

  it('maps a lexicon score to a label (neutral is positive)', () => {
    expect(polarityLabel(0.4, 'pos', 'neg')).toBe('pos');
    expect(polarityLabel(0, 'pos', 'neg')).toBe('pos');
    expect(polarityLabel(-2, 'pos', 'neg')).toBe('neg');
    expect(() => polarityLabel(Number.NaN, 'pos', 'neg')).toThrow(/not finite/);
  });
});
