import { afterEach, describe, expect, it } from 'vitest';
import { repeat } from './repetitions.js';

const g = globalThis as { gc?: () => void };
const original = g.gc;
afterEach(() => {
  g.gc = original;
});

describe('repeat', () => {
  it('warms up, then repeats until both the count and the duration are reached, collecting garbage before each run', async () => {
    const log: string[] = [];
    g.gc = () => log.push('gc');
    const values = await repeat({ warmup: 2, minRepetitions: 2, minDurationMs: 25, maxRepetitions: 10 }, async (i) => {
      log.push(`run ${i}`);
      return { ms: 10, value: i };
    });
    // 2 runs give 20 ms < 25 ms, so a third is made.
    expect(values).toEqual([0, 1, 2]);
    expect(log).toEqual(['gc', 'run -1', 'gc', 'run -2', 'gc', 'run 0', 'gc', 'run 1', 'gc', 'run 2']);
  });

  it('stops at maxRepetitions and rejects impossible settings', async () => {
    g.gc = undefined;
    const values = await repeat({ warmup: 0, minRepetitions: 1, minDurationMs: 1e9, maxRepetitions: 4 }, async (i) => ({
      ms: 1,
      value: i,
    }));
    expect(values).toHaveLength(4);
    await expect(
      repeat({ warmup: 0, minRepetitions: 3, minDurationMs: 0, maxRepetitions: 2 }, async () => ({ ms: 1, value: 0 })),
    ).rejects.toThrow(/minRepetitions/);
  });
});
