import { describe, expect, it } from 'vitest';
import { KvCache } from './kv-cache.js';

/** Fills tensor `index` for `length` positions with value = head * 1000 + position * 10 + dim. */
function fill(cache: KvCache, index: number, length: number): void {
  const next = cache.next(index, length);
  for (let h = 0; h < cache.kvHeads; h++) {
    for (let p = 0; p < length; p++) {
      for (let d = 0; d < cache.headDim; d++) next[(h * length + p) * cache.headDim + d] = h * 1000 + p * 10 + d;
    }
  }
}

describe('KvCache', () => {
  it('grows past its first capacity keeping the cached positions, and truncates per head', () => {
    const cache = new KvCache(1, 3, 2, 100, 4);
    cache.reserve(3);
    fill(cache, 0, 3);
    fill(cache, 1, 3);
    cache.commit(3);
    cache.reserve(9); // grows in steps of 4: to 12
    expect(cache.capacity).toBe(12);
    expect(Array.from(cache.past(0))).toEqual(Array.from(cache.past(1)));
    expect(cache.past(0).length).toBe(3 * 3 * 2);
    expect(cache.past(0)[(2 * 3 + 1) * 2 + 1]).toBe(2 * 1000 + 1 * 10 + 1);
    cache.truncate(2);
    const past = cache.past(0);
    expect(past.length).toBe(3 * 2 * 2);
    for (let h = 0; h < 3; h++) {
      for (let p = 0; p < 2; p++) expect(past[(h * 2 + p) * 2]).toBe(h * 1000 + p * 10);
    }
  });

  it('grows by whole steps, not by doubling, so a long sequence holds at most one step of slack', () => {
    const cache = new KvCache(1, 2, 4, 512);
    expect(cache.capacity).toBe(64);
    cache.reserve(32);
    expect(cache.capacity).toBe(64);
    cache.reserve(65);
    expect(cache.capacity).toBe(128);
    cache.reserve(160);
    expect(cache.capacity).toBe(192);
    cache.reserve(500);
    expect(cache.capacity).toBe(512);
  });

  it('never allocates beyond the context size', () => {
    const cache = new KvCache(2, 1, 4, 10, 4);
    cache.reserve(9);
    expect(cache.next(0, 10).length).toBe(40);
  });
});
