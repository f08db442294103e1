import { MinHeap } from './min-heap.js';
import { byteTokenText } from './token-type.js';

/** Largest vocabulary the packed merge table supports (ids below 2^21, so a pair fits a double exactly). */
export const MAX_BPE_VOCAB = 2 ** 21;

/** A merge as [left, right] token texts, or as tokenizer.json writes it: "left right" (split at the first space after
 * the first character). */
export type BpeMerge = string | readonly [string, string];

/** The two token texts of a merge. */
function mergeParts(merge: BpeMerge): readonly [string, string] {
  if (typeof merge !== 'string') return merge;
  const space = merge.indexOf(' ', 1);
  return [merge.slice(0, space), merge.slice(space + 1)];
}

export interface BpeModelOptions {
  /** Token text -> id. */
  vocab: ReadonlyMap<string, number>;
  /** Merges in priority order (rank 0 first). */
  merges: ReadonlyArray<BpeMerge>;
  /** Split characters missing from the vocabulary into `<0xXX>` byte tokens (SentencePiece-converted models). */
  byteFallback?: boolean;
  /** A word that is already a token is kept whole (llama3). */
  ignoreMerges?: boolean;
  unkToken?: string;
  fuseUnk?: boolean;
  continuingSubwordPrefix?: string;
  endOfWordSuffix?: string;
}

interface Node {
  id: number;
  prev: number;
  next: number;
}

interface Candidate {
  rank: number;
  left: number;
  leftId: number;
  rightId: number;
}

const utf8 = new TextEncoder();
const CACHE_LIMIT = 20000;

/**
 * Rank-based BPE (the Hugging Face / tiktoken algorithm): start from characters (or bytes), repeatedly merge the
 * adjacent pair with the lowest merge rank. The merge table maps `left * pairShift + right` -> rank, and
 * `#mergedByRank[rank]` holds the merged id; `pairShift` is the smallest power of two above every id, so for
 * vocabularies up to 2^15 keys and ranks are small integers (no boxed numbers in the map).
 */
export class BpeModel {
  readonly #vocab: ReadonlyMap<string, number>;
  readonly #merges = new Map<number, number>();
  readonly #mergedByRank: Int32Array;
  readonly #pairShift: number;
  readonly #byteFallback: boolean;
  readonly #ignoreMerges: boolean;
  readonly #unk: number | undefined;
  readonly #fuseUnk: boolean;
  readonly #prefix: string;
  readonly #suffix: string;
  readonly #byteIds = new Int32Array(256).fill(-1);
  readonly #cache = new Map<string, number[]>();
  /** Merges whose parts or result are not in the vocabulary (skipped, as HF would fail to load them). */
  readonly skippedMerges: number;

  constructor(options: BpeModelOptions) {
    this.#vocab = options.vocab;
    this.#byteFallback = options.byteFallback ?? false;
    this.#ignoreMerges = options.ignoreMerges ?? false;
    this.#fuseUnk = options.fuseUnk ?? false;
    this.#prefix = options.continuingSubwordPrefix ?? '';
    this.#suffix = options.endOfWordSuffix ?? '';
    this.#unk = options.unkToken === undefined ? undefined : options.vocab.get(options.unkToken);
    let maxId = 0;
    options.vocab.forEach((id) => {
      if (id > maxId) maxId = id;
    });
    let shift = 1;
    while (shift <= maxId) shift *= 2;
    this.#pairShift = shift;
    this.#mergedByRank = new Int32Array(options.merges.length);
    let skipped = 0;
    const prefixLength = this.#prefix.length;
    for (let rank = 0; rank < options.merges.length; rank++) {
      const [a, b] = mergeParts(options.merges[rank]);
      const left = this.#vocab.get(a);
      const right = this.#vocab.get(b);
      const merged = this.#vocab.get(a + (prefixLength > 0 && b.startsWith(this.#prefix) ? b.slice(prefixLength) : b));
      if (left === undefined || right === undefined || merged === undefined) {
        skipped++;
        continue;
      }
      const key = left * shift + right;
      if (!this.#merges.has(key)) {
        this.#merges.set(key, rank);
        this.#mergedByRank[rank] = merged;
      }
    }
    this.skippedMerges = skipped;
    if (this.#byteFallback) {
      for (let b = 0; b < 256; b++) this.#byteIds[b] = this.#vocab.get(byteTokenText(b)) ?? -1;
    }
  }

  /** Token ids for one pre-tokenized word. */
  tokenize(word: string, out: number[]): void {
    const cached = this.#cache.get(word);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.#tokenizeUncached(word);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(word, ids);
    for (const id of ids) out.push(id);
  }

  #tokenizeUncached(word: string): number[] {
    if (this.#ignoreMerges) {
      const whole = this.#vocab.get(word + this.#suffix);
      if (whole !== undefined) return [whole];
    }
    const nodes: Node[] = [];
    const chars = Array.from(word);
    let pendingUnk = false;
    for (let i = 0; i < chars.length; i++) {
      let text = chars[i];
      if (i > 0) text = this.#prefix + text;
      if (i === chars.length - 1) text += this.#suffix;
      const id = this.#vocab.get(text);
      if (id !== undefined) {
        nodes.push({ id, prev: nodes.length - 1, next: nodes.length + 1 });
        pendingUnk = false;
        continue;
      }
      if (this.#byteFallback) {
        const bytes = utf8.encode(chars[i]);
        const byteIds = Array.from(bytes, (b) => this.#byteIds[b]);
        if (byteIds.every((b) => b >= 0)) {
          for (const b of byteIds) nodes.push({ id: b, prev: nodes.length - 1, next: nodes.length + 1 });
          pendingUnk = false;
          continue;
        }
      }
      if (this.#unk === undefined) continue; // HF errors here; dropping the character is the safe choice
      if (this.#fuseUnk && pendingUnk) continue;
      nodes.push({ id: this.#unk, prev: nodes.length - 1, next: nodes.length + 1 });
      pendingUnk = true;
    }
    if (nodes.length === 0) return [];
    nodes[nodes.length - 1].next = -1;
    if (nodes.length === 1) return [nodes[0].id];

    const merges = this.#merges;
    const shift = this.#pairShift;
    const heap = new MinHeap<Candidate>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left));
    const consider = (left: number) => {
      if (left < 0) return;
      const right = nodes[left].next;
      if (right < 0) return;
      const rank = merges.get(nodes[left].id * shift + nodes[right].id);
      if (rank === undefined) return;
      heap.push({ rank, left, leftId: nodes[left].id, rightId: nodes[right].id });
    };
    for (let i = 0; i < nodes.length - 1; i++) consider(i);
    for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
      const left = nodes[c.left];
      if (left.id !== c.leftId || left.next < 0) continue;
      const right = nodes[left.next];
      if (right.id !== c.rightId) continue;
      left.id = this.#mergedByRank[c.rank];
      right.id = -1;
      left.next = right.next;
      if (right.next >= 0) nodes[right.next].prev = c.left;
      consider(left.prev);
      consider(c.left);
    }
    const ids: number[] = [];
    for (let i = 0; i >= 0; i = nodes[i].next) ids.push(nodes[i].id);
    return ids;
  }
}
