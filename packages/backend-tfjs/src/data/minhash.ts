import { fmix32, hash53, ngramHashes } from './hash.js';

/** Default number of MinHash permutations (signature length). */
export const DEFAULT_MINHASH_PERMUTATIONS = 128;
/** Default word n-gram size of the shingles. */
export const DEFAULT_SHINGLE_SIZE = 3;

/**
 * Fixed per-permutation multipliers (odd) and offsets, derived from constants so signatures are the same in every
 * run and process. Permutation p maps a (well mixed) shingle hash x to (a_p * x + b_p) mod 2^32.
 */
function permutationParams(count: number): { mul: Uint32Array; add: Uint32Array } {
  const mul = new Uint32Array(count);
  const add = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    mul[i] = fmix32(0x9e3779b9 + Math.imul(i + 1, 0x85ebca6b)) | 1;
    add[i] = fmix32(0x7f4a7c15 ^ Math.imul(i + 1, 0xc2b2ae35));
  }
  return { mul, add };
}

/** The words of a text, lower-cased, punctuation dropped: what near-duplicate detection compares. */
export function shingleWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** MinHash signatures of word n-gram sets; equal positions estimate Jaccard similarity. */
export class MinHasher {
  readonly permutations: number;
  readonly shingleSize: number;
  readonly #mul: Uint32Array;
  readonly #add: Uint32Array;

  constructor(permutations = DEFAULT_MINHASH_PERMUTATIONS, shingleSize = DEFAULT_SHINGLE_SIZE) {
    this.permutations = permutations;
    this.shingleSize = shingleSize;
    ({ mul: this.#mul, add: this.#add } = permutationParams(permutations));
  }

  signature(text: string): Uint32Array {
    const shingles = new Set(ngramHashes(shingleWords(text), this.shingleSize));
    const sig = new Uint32Array(this.permutations).fill(0xffffffff);
    const mul = this.#mul;
    const add = this.#add;
    const k = sig.length;
    for (const x of shingles) {
      for (let p = 0; p < k; p++) {
        const h = (Math.imul(mul[p], x) + add[p]) >>> 0;
        if (h < sig[p]) sig[p] = h;
      }
    }
    return sig;
  }
}

/** The share of equal positions: an unbiased estimate of the Jaccard similarity of the two shingle sets. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Picks bands x rows = permutations so the LSH S-curve rises a little below `threshold` (few misses). */
export function chooseBands(permutations: number, threshold: number): { bands: number; rows: number } {
  const target = Math.max(0.05, threshold - 0.15);
  let best = { bands: permutations, rows: 1 };
  let bestGap = Number.POSITIVE_INFINITY;
  for (let rows = 1; rows <= permutations; rows++) {
    if (permutations % rows !== 0) continue;
    const bands = permutations / rows;
    const gap = Math.abs((1 / bands) ** (1 / rows) - target);
    if (gap < bestGap) {
      best = { bands, rows };
      bestGap = gap;
    }
  }
  return best;
}

/**
 * Locality-sensitive hashing over MinHash signatures. Holds signatures and bucket lists, never texts. A query
 * returns the id of a stored document whose estimated Jaccard similarity reaches the threshold.
 */
export class LshIndex {
  readonly bands: number;
  readonly rows: number;
  readonly threshold: number;
  readonly #buckets: Array<Map<number, number[]>>;
  readonly #signatures: Uint32Array[] = [];

  constructor(permutations: number, threshold: number) {
    this.threshold = threshold;
    ({ bands: this.bands, rows: this.rows } = chooseBands(permutations, threshold));
    this.#buckets = Array.from({ length: this.bands }, () => new Map());
  }

  get size(): number {
    return this.#signatures.length;
  }

  #bandKey(sig: Uint32Array, band: number): number {
    let key = '';
    for (let r = 0; r < this.rows; r++) key += `${sig[band * this.rows + r]},`;
    return hash53(key, band);
  }

  /** The id of a near-duplicate already in the index, or undefined. */
  findDuplicate(sig: Uint32Array): number | undefined {
    const checked = new Set<number>();
    for (let band = 0; band < this.bands; band++) {
      const list = this.#buckets[band].get(this.#bandKey(sig, band));
      if (!list) continue;
      for (const id of list) {
        if (checked.has(id)) continue;
        checked.add(id);
        if (estimateJaccard(sig, this.#signatures[id]) >= this.threshold) return id;
      }
    }
    return undefined;
  }

  /** Stores a signature; returns its id. */
  add(sig: Uint32Array): number {
    const id = this.#signatures.length;
    this.#signatures.push(sig);
    for (let band = 0; band < this.bands; band++) {
      const key = this.#bandKey(sig, band);
      const list = this.#buckets[band].get(key);
      if (list) list.push(id);
      else this.#buckets[band].set(key, [id]);
    }
    return id;
  }
}
