import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../generation/random.js';
import { floatToHalf, halfToFloat } from './half-float.js';
import { byteSizeOf, createTensor, encodeTensor, tensorToFloat32 } from './tensor.js';

function randomValues(n: number, seed = 1): Float32Array {
  const r = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (r.next() * 2 - 1) * 3);
}

describe('half floats', () => {
  it('round-trips exactly representable values and rounds to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, -65504, 2 ** -24, 0.333251953125])
      expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: ties to even
    expect(floatToHalf(1e6)).toBe(0x7c00); // overflow to +inf
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325195, 7);
  });
});

describe('tensor encodings', () => {
  const values = randomValues(256);
  it.each([
    ['f16', 2e-3],
    ['q8_0', 3 / 127],
    ['q4_0', 3 / 7],
  ] as const)('%s round-trips within its quantisation step', (dtype, tolerance) => {
    const t = encodeTensor('w', [8, 32], values, dtype);
    expect(t.data.byteLength).toBe(byteSizeOf(dtype, 256));
    const back = tensorToFloat32(t);
    let max = 0;
    for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(back[i] - values[i]));
    expect(max).toBeLessThanOrEqual(tolerance);
    expect(max).toBeGreaterThan(0);
  });
  it('q8_0 blocks are 34 bytes with an f16 scale of amax/127', () => {
    const v = new Float32Array(32).fill(0.5);
    v[3] = -1.27;
    const t = encodeTensor('w', [32], v, 'q8_0');
    expect(t.data.byteLength).toBe(34);
    expect(halfToFloat(t.data[0] | (t.data[1] << 8))).toBeCloseTo(0.01, 4);
    expect((t.data[2 + 3] << 24) >> 24).toBe(-127);
  });
  it('f32 decoding is a zero-copy view when aligned', () => {
    const t = encodeTensor('w', [4], Float32Array.of(1, 2, 3, 4), 'f32');
    expect(tensorToFloat32(t).buffer).toBe(t.data.buffer);
  });
  it('rejects byte counts that do not match the shape', () => {
    expect(() => createTensor('w', [2, 2], 'f32', new Uint8Array(15))).toThrow(/needs 16/);
    expect(() => byteSizeOf('q8_0', 33, 'w')).toThrow(/blocks of 32/);
  });
});
