import { InvalidArgumentError, throwIfAborted } from '@slmkit/core';
import type { RepetitionSettings } from '../suite/suite-types.js';

/** Runs a full garbage collection when Node was started with `--expose-gc` (bench's workers are); else nothing. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs `fn` `warmup` times untimed, then repeatedly until at least `minRepetitions` runs were made AND their
 * measured durations add up to `minDurationMs` (capped by `maxRepetitions`). `fn` returns its own measured
 * duration in ms (so setup outside the timed region does not count) plus any value to keep. A full GC runs before
 * every run (warm-up and timed), so garbage from the previous run is not collected inside the next timed region.
 */
export async function repeat<T>(
  settings: RepetitionSettings,
  fn: (repetition: number) => Promise<{ ms: number; value: T }>,
  signal?: AbortSignal,
): Promise<T[]> {
  if (settings.minRepetitions < 1 || settings.maxRepetitions < settings.minRepetitions) {
    throw new InvalidArgumentError('need 1 <= minRepetitions <= maxRepetitions', {
      field: 'minRepetitions',
      value: settings.minRepetitions,
    });
  }
  for (let i = 0; i < settings.warmup; i++) {
    throwIfAborted(signal);
    collectGarbage();
    await fn(-1 - i);
  }
  const values: T[] = [];
  let total = 0;
  while (
    values.length < settings.maxRepetitions &&
    (values.length < settings.minRepetitions || total < settings.minDurationMs)
  ) {
    throwIfAborted(signal);
    collectGarbage();
    const { ms, value } = await fn(values.length);
    total += ms;
    values.push(value);
  }
  return values;
}
