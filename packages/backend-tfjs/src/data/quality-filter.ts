/** Document filters: length and repetition. */

import { ngramHashes } from './hash.js';

export interface FilterOptions {
  /** Drop documents shorter than this many characters (after cleaning). Default: DEFAULT_MIN_CHARS. */
  minChars?: number;
  /** Drop documents longer than this many characters. Default: DEFAULT_MAX_CHARS. */
  maxChars?: number;
  /** Drop documents whose repetition ratio exceeds this (0..1). Default: DEFAULT_MAX_REPETITION. */
  maxRepetition?: number;
}

export const DEFAULT_MIN_CHARS = 16;
export const DEFAULT_MAX_CHARS = 1_000_000;
export const DEFAULT_MAX_REPETITION = 0.3;
/** Documents with fewer word trigrams than this are never judged repetitive. */
const MIN_TRIGRAMS_FOR_REPETITION = 8;

export type FilterReason = 'empty' | 'too-short' | 'too-long' | 'repetitive';

/**
 * The share of word trigrams that repeat an earlier trigram of the same document (0 = none repeat; close to 1 =
 * the same phrase over and over). Catches boilerplate, spam and degenerate generated text.
 */
export function repetitionRatio(text: string): number {
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  const total = words.length - 2;
  if (total < MIN_TRIGRAMS_FOR_REPETITION) return 0;
  const seen = new Set<number>();
  let repeats = 0;
  for (const trigram of ngramHashes(words, 3)) {
    if (seen.has(trigram)) repeats++;
    else seen.add(trigram);
  }
  return repeats / total;
}

/** Returns why a document should be dropped, or undefined to keep it. */
export function filterReason(text: string, options: FilterOptions = {}): FilterReason | undefined {
  if (text.length === 0) return 'empty';
  if (text.length < (options.minChars ?? DEFAULT_MIN_CHARS)) return 'too-short';
  if (text.length > (options.maxChars ?? DEFAULT_MAX_CHARS)) return 'too-long';
  if (repetitionRatio(text) > (options.maxRepetition ?? DEFAULT_MAX_REPETITION)) return 'repetitive';
  return undefined;
}
