import { hash53 } from './hash.js';

export type SplitName = 'train' | 'val';

/** Default share of documents that go to validation. */
export const DEFAULT_VAL_FRACTION = 0.05;
/** Default seed of the split hash. */
export const DEFAULT_SPLIT_SEED = 0;

/**
 * Deterministic train/val assignment from a hash of the document's text: the same document lands in the same split
 * whatever the input order, the number of files or the machine. A different `seed` gives a different split.
 */
export function assignSplit(text: string, valFraction = DEFAULT_VAL_FRACTION, seed = DEFAULT_SPLIT_SEED): SplitName {
  return hash53(text, seed) / 2 ** 53 < valFraction ? 'val' : 'train';
}
