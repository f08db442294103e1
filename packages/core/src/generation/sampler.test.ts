import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';
import { applyPenalties, argmax, logSoftmax, sampleToken } from './sampler.js';
import { resolveSampling } from './sampling-options.js';

const logits = Float32Array.of(1, 5, 3, 4.9, -2);

describe('sampler', () => {
  it('greedy picks the argmax, first index on ties', () => {
    expect(argmax(Float32Array.of(1, 3, 3))).toBe(1);
    expect(sampleToken(logits, [], resolveSampling({ temperature: 0 }, 1), new SeededRandom(1))).toBe(1);
  });
  it('top-k 1 is greedy whatever the temperature', () => {
    const s = resolveSampling({ temperature: 5, topK: 1 }, 9);
    for (let seed = 0; seed < 20; seed++) expect(sampleToken(logits, [], s, new SeededRandom(seed))).toBe(1);
  });
  it('top-k 2 only yields the two best tokens, and both occur', () => {
    const s = resolveSampling({ temperature: 3, topK: 2, topP: 1, minP: 0 }, 0);
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) seen.add(sampleToken(logits, [], s, new SeededRandom(seed)));
    expect([...seen].sort()).toEqual([1, 3]);
  });
  it('min-p drops unlikely tokens', () => {
    const s = resolveSampling({ temperature: 1, topK: 0, topP: 1, minP: 0.5 }, 0);
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) seen.add(sampleToken(logits, [], s, new SeededRandom(seed)));
    expect([...seen].sort()).toEqual([1, 3]);
  });
  it('the same seed gives the same draws', () => {
    const s = resolveSampling({ temperature: 1, topK: 0, topP: 1, minP: 0 }, 0);
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 30 }, () => sampleToken(logits, [], s, r));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });
  it('repetition penalty lowers recent tokens the llama.cpp way', () => {
    const s = resolveSampling({ repeatPenalty: 2, presencePenalty: 0.5, frequencyPenalty: 0.25 }, 0);
    const out = applyPenalties(logits, [1, 1, 4], s);
    expect(out[1]).toBeCloseTo(5 / 2 - 0.5 - 0.5, 6);
    expect(out[4]).toBeCloseTo(-2 * 2 - 0.5 - 0.25, 6);
    expect(out[0]).toBe(1);
    expect(logits[1]).toBe(5); // input untouched
  });
  it('log-softmax sums to one', () => {
    const lp = logSoftmax(logits);
    expect(lp.reduce((a, b) => a + Math.exp(b), 0)).toBeCloseTo(1, 10);
  });
  it('rejects bad settings with the field named', () => {
    expect(() => resolveSampling({ topP: 0 }, 0)).toThrow(/topP/);
    expect(() => resolveSampling({ temperature: -1 }, 0)).toThrow(/temperature/);
    expect(() => resolveSampling({ topK: 1.5 }, 0)).toThrow(/topK/);
  });
});
