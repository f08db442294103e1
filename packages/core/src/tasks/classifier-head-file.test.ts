import { describe, expect, it } from 'vitest';
import { classifierHeadToJson, parseClassifierHeadJson } from './classifier-head-file.js';
import type { ClassifierHead } from './text-classifier.js';

const head: ClassifierHead = {
  labels: ['neg', 'pos'],
  pooling: 'mean',
  dim: 3,
  weight: Float32Array.of(0.5, -1, 2, 0.25, 3, -0.125),
  bias: Float32Array.of(0.1, -0.2),
};

describe('classifier head file', () => {
  it('round-trips a head exactly (f32 values survive JSON)', () => {
    const parsed = parseClassifierHeadJson(classifierHeadToJson(head, { maxLength: 48 }), 'h.json');
    expect(parsed.labels).toEqual(head.labels);
    expect(parsed.weight).toEqual(head.weight);
    expect(parsed.bias).toEqual(head.bias);
    expect(parsed.maxLength).toBe(48);
  });
  it('names the file and field at fault', () => {
    const good = JSON.parse(classifierHeadToJson(head)) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
    expect(() => parseClassifierHeadJson('{', 'h.json')).toThrow(/h\.json.*not valid JSON/);
    expect(() => parseClassifierHeadJson(bad({ weight: [1, 2] }), 'h.json')).toThrow(
      expect.objectContaining({ field: 'weight', file: 'h.json' }),
    );
    expect(() => parseClassifierHeadJson(bad({ labels: ['a', 'a'] }))).toThrow(
      expect.objectContaining({ field: 'labels' }),
    );
    expect(() => parseClassifierHeadJson(bad({ bias: [1, Number.NaN] }))).toThrow(
      expect.objectContaining({ field: 'bias' }),
    );
    expect(() => parseClassifierHeadJson(bad({ format: 'other' }))).toThrow(
      expect.objectContaining({ field: 'format' }),
    );
    expect(() => parseClassifierHeadJson(bad({ dim: -1 }))).toThrow(expect.objectContaining({ field: 'dim' }));
  });
});
