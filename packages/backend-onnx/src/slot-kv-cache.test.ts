import { describe, expect, it } from 'vitest';
import { MASKED } from './export/layer-parts.js';
import { SlotKvCache } from './slot-kv-cache.js';

/** value = head * 1000 + position * 10 + dim, in the graph's output layouts for positions [start, start + count). */
function newRows(cache: SlotKvCache, start: number, count: number): { keysT: Float32Array; values: Float32Array } {
  const { kvHeads, headDim } = cache;
  const keysT = new Float32Array(kvHeads * headDim * count);
  const values = new Float32Array(kvHeads * count * headDim);
  for (let h = 0; h < kvHeads; h++) {
    for (let s = 0; s < count; s++) {
      for (let d = 0; d < headDim; d++) {
        const v = h * 1000 + (start + s) * 10 + d;
        keysT[(h * headDim + d) * count + s] = v;
        values[(h * count + s) * headDim + d] = v;
      }
    }
  }
  return { keysT, values };
}

function expectHolds(cache: SlotKvCache, length: number): void {
  const { kvHeads, headDim, capacity } = cache;
  for (let h = 0; h < kvHeads; h++) {
    for (let p = 0; p < length; p++) {
      for (let d = 0; d < headDim; d++) {
        const want = h * 1000 + p * 10 + d;
        expect(cache.keysT(0)[(h * headDim + d) * capacity + p]).toBe(want);
        expect(cache.values(0)[(h * capacity + p) * headDim + d]).toBe(want);
      }
    }
  }
  expect(Array.from(cache.bias.subarray(0, length)).every((b) => b === 0)).toBe(true);
  expect(Array.from(cache.bias.subarray(length)).every((b) => b === MASKED)).toBe(true);
}

describe('SlotKvCache', () => {
  it('stores new positions in place, grows in steps keeping them (re-laid out), masks free slots', () => {
    const cache = new SlotKvCache(1, 3, 2, 20, 4);
    expect(cache.capacity).toBe(4);
    expectHolds(cache, 0);
    let rows = newRows(cache, 0, 3);
    cache.reserve(3);
    cache.write(0, 0, 3, rows.keysT, rows.values);
    cache.commit(3);
    expectHolds(cache, 3);
    cache.reserve(3 + 6); // steps of 4 -> 12
    expect(cache.capacity).toBe(12);
    expectHolds(cache, 3);
    rows = newRows(cache, 3, 6);
    cache.write(0, 3, 6, rows.keysT, rows.values);
    cache.commit(9);
    expectHolds(cache, 9);
    cache.reserve(19); // capped at the context size
    expect(cache.capacity).toBe(20);
    expectHolds(cache, 9);
    expect(() => cache.write(0, 19, 2, rows.keysT, rows.values)).toThrow(RangeError);
  });

  it('truncates by masking the dropped slots, and is overwritten from there', () => {
    const cache = new SlotKvCache(1, 2, 2, 16, 8);
    const first = newRows(cache, 0, 5);
    cache.write(0, 0, 5, first.keysT, first.values);
    cache.commit(5);
    cache.truncate(2);
    expect(cache.length).toBe(2);
    expectHolds(cache, 2);
    const again = newRows(cache, 2, 1);
    cache.write(0, 2, 1, again.keysT, again.values);
    cache.commit(3);
    expectHolds(cache, 3);
    cache.release();
    expect(cache.capacity).toBe(0);
    expect(cache.length).toBe(0);
  });

  it('keeps every layer in its own region of one allocation, growing in place with zeroed free slots', () => {
    const layers = 3;
    const cache = new SlotKvCache(layers, 2, 4, 32, 4);
    const buffer = cache.keysT(0).buffer;
    for (let step = 0; step < 11; step++) {
      cache.reserve(step + 1);
      for (let l = 0; l < layers; l++) {
        const rows = newRows(cache, step, 1);
        cache.write(
          l,
          step,
          1,
          rows.keysT.map((v) => v + l * 100_000),
          rows.values.map((v) => v + l * 100_000),
        );
      }
      cache.commit(step + 1);
    }
    expect(cache.capacity).toBe(12);
    const { kvHeads, headDim, capacity } = cache;
    for (let l = 0; l < layers; l++) {
      expect(cache.keysT(l).buffer).toBe(buffer);
      expect(cache.values(l).buffer).toBe(buffer);
      for (let h = 0; h < kvHeads; h++) {
        for (let d = 0; d < headDim; d++) {
          for (let p = 0; p < capacity; p++) {
            const want = p < 11 ? l * 100_000 + h * 1000 + p * 10 + d : 0;
            expect(cache.keysT(l)[(h * headDim + d) * capacity + p]).toBe(want);
            expect(cache.values(l)[(h * capacity + p) * headDim + d]).toBe(want);
          }
        }
      }
    }
  });
});
