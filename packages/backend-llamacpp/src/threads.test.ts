import { describe, expect, it } from 'vitest';
import { chooseThreads, SINGLE_THREAD_MAX_WEIGHT_BYTES, WEIGHT_BYTES_PER_THREAD } from './threads.js';

const BIG = 100 * WEIGHT_BYTES_PER_THREAD;

describe('chooseThreads', () => {
  it('uses one thread for small models whatever the core count', () => {
    expect(chooseThreads({ weightBytes: 1_000_000, cores: 64, load: 0 })).toBe(1);
    expect(chooseThreads({ weightBytes: SINGLE_THREAD_MAX_WEIGHT_BYTES, cores: 64, load: 0 })).toBe(1);
  });
  it('never exceeds the CPU quota for large models on an idle machine', () => {
    expect(chooseThreads({ weightBytes: BIG, cores: 2, load: 0 })).toBe(2);
    expect(chooseThreads({ weightBytes: BIG, cores: 16, load: 0.2 })).toBe(16);
    expect(
      chooseThreads({ weightBytes: SINGLE_THREAD_MAX_WEIGHT_BYTES + WEIGHT_BYTES_PER_THREAD, cores: 16, load: 0 }),
    ).toBe(2);
    expect(chooseThreads({ weightBytes: 61e6, cores: 16, load: 0 })).toBe(8);
    expect(chooseThreads({ weightBytes: 1e6, cores: 16, load: 0 })).toBe(1);
    expect(chooseThreads({ weightBytes: BIG, cores: 16, mathCores: 8, load: 0 })).toBe(8);
  });
  it('leaves busy cores alone: spin-waiting threads on a contended core are what makes llama.cpp crawl', () => {
    expect(chooseThreads({ weightBytes: BIG, cores: 2, load: 8 })).toBe(1);
    expect(chooseThreads({ weightBytes: BIG, cores: 2, load: 1.2 })).toBe(1);
    expect(chooseThreads({ weightBytes: BIG, cores: 16, load: 4 })).toBe(12);
  });
  it('honours an explicit choice and rejects nonsense', () => {
    expect(chooseThreads({ requested: 3, weightBytes: 10, cores: 2 })).toBe(3);
    expect(() => chooseThreads({ requested: 0, weightBytes: 10 })).toThrow(/threads/);
    expect(() => chooseThreads({ requested: 1.5, weightBytes: 10 })).toThrow(/threads/);
  });
  it('defaults to the cgroup-aware core count and the current load', () => {
    const threads = chooseThreads({ weightBytes: 1e12 });
    expect(threads).toBeGreaterThanOrEqual(1);
  });
});
