/**
 * Small deterministic non-cryptographic hashes (pure JS, so the pipeline also runs in browsers).
 * `hash53` is cyrb53 (public domain): 53-bit, well mixed, good enough to key exact duplicates and splits.
 */

export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a fast bijective mix. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines two 32-bit hashes in an order-sensitive way. */
export function combine32(a: number, b: number): number {
  return fmix32((Math.imul(a, 0x9e3779b1) + b) | 0);
}

/** The 32-bit hashes of the word n-grams of a word sequence (the whole sequence as one n-gram when shorter). */
export function ngramHashes(words: readonly string[], n: number): Uint32Array {
  const wordHashes = new Uint32Array(words.length);
  for (let i = 0; i < words.length; i++) wordHashes[i] = fnv1a32(words[i]);
  const count = Math.max(1, words.length - n + 1);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    let h = 0x2545f491;
    const end = Math.min(words.length, i + n);
    for (let j = i; j < end; j++) h = combine32(h, wordHashes[j]);
    out[i] = h;
  }
  return out;
}
