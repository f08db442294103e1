import { describe, expect, it } from 'vitest';
import { concatArrays } from './concat-arrays.js';

describe('concatArrays', () => {
  it('joins parts in order, keeping the element type', () => {
    const out = concatArrays([Float32Array.of(1, 2), new Float32Array(0), Float32Array.of(3.5)], Float32Array);
    expect(out).toBeInstanceOf(Float32Array);
    expect([...out]).toEqual([1, 2, 3.5]);
    expect([...concatArrays([Uint8Array.of(255), Uint8Array.of(0, 7)], Uint8Array)]).toEqual([255, 0, 7]);
    expect(concatArrays([], Int32Array)).toHaveLength(0);
  });
});
