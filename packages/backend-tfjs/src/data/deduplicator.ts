import { hash53 } from './hash.js';
import { DEFAULT_MINHASH_PERMUTATIONS, DEFAULT_SHINGLE_SIZE, LshIndex, MinHasher } from './minhash.js';

export interface DedupOptions {
  /** Drop exact duplicates (same text after case folding and whitespace collapsing). Default: true. */
  exact?: boolean;
  /** Drop near-duplicates (MinHash + LSH). Default: true. */
  near?: boolean;
  /** Estimated Jaccard similarity of word n-grams at or above which a document is a near-duplicate. Default: 0.8. */
  nearThreshold?: number;
  /** MinHash signature length. Default: DEFAULT_MINHASH_PERMUTATIONS (128). */
  permutations?: number;
  /** Word n-gram size. Default: DEFAULT_SHINGLE_SIZE (3). */
  shingleSize?: number;
}

export const DEFAULT_NEAR_DUP_THRESHOLD = 0.8;

export type DuplicateKind = 'exact' | 'near';

/**
 * Streaming de-duplication: the first occurrence wins, later copies are reported. Keeps one 53-bit hash per
 * document for exact matches and one MinHash signature per kept document for near matches; never the texts.
 */
export class Deduplicator {
  readonly #exact: boolean;
  readonly #seen = new Set<number>();
  readonly #hasher?: MinHasher;
  readonly #index?: LshIndex;

  constructor(options: DedupOptions = {}) {
    this.#exact = options.exact ?? true;
    if (options.near ?? true) {
      const permutations = options.permutations ?? DEFAULT_MINHASH_PERMUTATIONS;
      this.#hasher = new MinHasher(permutations, options.shingleSize ?? DEFAULT_SHINGLE_SIZE);
      this.#index = new LshIndex(permutations, options.nearThreshold ?? DEFAULT_NEAR_DUP_THRESHOLD);
    }
  }

  /** Returns the kind of duplicate `text` is of an earlier document, or undefined (and remembers it). */
  check(text: string): DuplicateKind | undefined {
    if (this.#exact) {
      const key = hash53(text.toLowerCase().replace(/\s+/g, ' ').trim());
      if (this.#seen.has(key)) return 'exact';
      this.#seen.add(key);
    }
    if (this.#hasher && this.#index) {
      const sig = this.#hasher.signature(text);
      if (this.#index.findDuplicate(sig) !== undefined) return 'near';
      this.#index.add(sig);
    }
    return undefined;
  }
}
