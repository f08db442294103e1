import { throwIfAborted } from '@slmkit/core';
import { PairHeap } from './pair-heap.js';

/** Symbol ids must stay below this so a pair packs into one safe integer key. */
export const MAX_SYMBOLS = 1 << 21;

const pairKey = (a: number, b: number): number => a * MAX_SYMBOLS + b;
const pairLeft = (key: number): number => Math.floor(key / MAX_SYMBOLS);
const pairRight = (key: number): number => key % MAX_SYMBOLS;

/** The unique words of a corpus as symbol-id sequences, with how often each occurs. */
export interface WordTable {
  words: Int32Array[];
  counts: number[];
}

export interface LearnMergesOptions {
  /** Merges to learn at most. */
  maxMerges: number;
  /** A pair must occur at least this often to be merged. */
  minFrequency: number;
  /**
   * Rejects a merge whose joined string is already a token outside the symbols (e.g. a special token spelled out in
   * the corpus). A merge that would re-create an existing symbol's string is always rejected.
   */
  isTaken?: (joined: string) => boolean;
  signal?: AbortSignal;
  /** Called every few hundred merges with (merges learned, merges wanted). */
  onProgress?: (done: number, total: number) => void;
}

export interface LearnedMerges {
  /** Merges in rank order; merge i creates symbol `initialSymbols + i`. */
  merges: Array<[number, number]>;
  /** The string of every symbol, initial ones first. */
  symbols: string[];
}

/**
 * Learns BPE merges: repeatedly joins the most frequent adjacent pair. Pair counts are updated incrementally
 * (only the words that contain the merged pair are revisited) and the best pair comes from a lazy max-heap, so a
 * merge costs time proportional to the words it touches, not to the corpus.
 */
export function learnBpeMerges(
  table: WordTable,
  initialSymbols: readonly string[],
  options: LearnMergesOptions,
): LearnedMerges {
  const { words, counts } = table;
  const symbols = [...initialSymbols];
  const symbolSet = new Set(symbols);
  const merges: Array<[number, number]> = [];
  const pairCounts = new Map<number, number>();
  const where = new Map<number, number[]>();
  const forbidden = new Set<number>();
  const lastSeen = new Int32Array(words.length).fill(-1);

  for (let w = 0; w < words.length; w++) {
    const sym = words[w];
    const c = counts[w];
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = pairKey(sym[i], sym[i + 1]);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + c);
      const list = where.get(key);
      if (list) {
        if (list[list.length - 1] !== w) list.push(w);
      } else where.set(key, [w]);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) if (count >= options.minFrequency) heap.push(count, key);

  const delta = new Map<number, number>();
  while (merges.length < options.maxMerges) {
    if (merges.length % 256 === 0) {
      throwIfAborted(options.signal, 'Tokenizer training');
      options.onProgress?.(merges.length, options.maxMerges);
    }
    const top = heap.pop();
    if (!top) break;
    const live = pairCounts.get(top.key) ?? 0;
    if (forbidden.has(top.key)) continue;
    if (live !== top.count) {
      if (live >= options.minFrequency) heap.push(live, top.key);
      continue;
    }
    if (live < options.minFrequency) break;
    const a = pairLeft(top.key);
    const b = pairRight(top.key);
    const joined = symbols[a] + symbols[b];
    if (symbolSet.has(joined) || options.isTaken?.(joined)) {
      forbidden.add(top.key);
      continue;
    }
    const s = symbols.length;
    if (s >= MAX_SYMBOLS) break;
    symbols.push(joined);
    symbolSet.add(joined);
    merges.push([a, b]);
    const stamp = merges.length;

    delta.clear();
    const touched = where.get(top.key) ?? [];
    for (const w of touched) {
      if (lastSeen[w] === stamp) continue;
      lastSeen[w] = stamp;
      const old = words[w];
      let found = false;
      for (let i = 0; i + 1 < old.length; i++) {
        if (old[i] === a && old[i + 1] === b) {
          found = true;
          break;
        }
      }
      if (!found) continue;
      const next: number[] = [];
      for (let i = 0; i < old.length; i++) {
        if (i + 1 < old.length && old[i] === a && old[i + 1] === b) {
          next.push(s);
          i++;
        } else next.push(old[i]);
      }
      const c = counts[w];
      for (let i = 0; i + 1 < old.length; i++) {
        const key = pairKey(old[i], old[i + 1]);
        delta.set(key, (delta.get(key) ?? 0) - c);
      }
      for (let i = 0; i + 1 < next.length; i++) {
        const key = pairKey(next[i], next[i + 1]);
        delta.set(key, (delta.get(key) ?? 0) + c);
        if (next[i] === s || next[i + 1] === s) {
          const list = where.get(key);
          if (list) {
            if (list[list.length - 1] !== w) list.push(w);
          } else where.set(key, [w]);
        }
      }
      words[w] = Int32Array.from(next);
    }
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const updated = (pairCounts.get(key) ?? 0) + d;
      if (updated <= 0) pairCounts.delete(key);
      else pairCounts.set(key, updated);
      if (d > 0 && updated >= options.minFrequency && !forbidden.has(key)) heap.push(updated, key);
    }
    pairCounts.delete(top.key);
    where.delete(top.key);
  }
  options.onProgress?.(merges.length, options.maxMerges);
  return { merges, symbols };
}
