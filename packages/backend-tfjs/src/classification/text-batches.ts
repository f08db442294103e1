import { InvalidArgumentError, type Tokenizer } from '@slmkit/core';
import type { TrainRng } from '../training/train-rng.js';

/** Token ids of each text (BOS as the tokenizer adds it), cut to `maxLength` with one warning per cut text. */
export function encodeTexts(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number,
  onWarning?: (message: string) => void,
  where: (index: number) => string = (i) => `texts[${i}]`,
): Int32Array[] {
  return texts.map((text, i) => {
    if (text.trim() === '') throw new InvalidArgumentError(`${where(i)} is empty`, { field: where(i) });
    const ids = tokenizer.encode(text);
    if (ids.length === 0) throw new InvalidArgumentError(`${where(i)} encodes to no tokens`, { field: where(i) });
    if (ids.length > maxLength) {
      onWarning?.(`${where(i)} has ${ids.length} tokens; truncated to ${maxLength}`);
      return Int32Array.from(ids.slice(0, maxLength));
    }
    return Int32Array.from(ids);
  });
}

/** One padded batch: `ids` is batch x seqLen (right-padded with `padId`), `rows` the source indices. */
export interface TextBatch {
  rows: number[];
  seqLen: number;
  ids: Int32Array;
  lengths: Int32Array;
}

/** Rounds a length up to a multiple of 8 (so batches share few distinct shapes), capped at `maxLength`. */
export function bucketLength(length: number, maxLength: number): number {
  return Math.min(maxLength, Math.max(8, Math.ceil(length / 8) * 8));
}

/**
 * Groups sequences of similar length into padded batches (padding to the longest of the batch, bucketed). With
 * `rng`, rows are shuffled before grouping (lengths jittered so batches differ between epochs) and the batch order
 * is shuffled; without it, batches follow length order (deterministic, for inference).
 */
export function makeBatches(
  sequences: readonly Int32Array[],
  batchSize: number,
  maxLength: number,
  rng?: TrainRng,
  padId = 0,
): TextBatch[] {
  const order = sequences.map((s, i) => ({ i, key: s.length + (rng ? rng.next() * 4 : 0) }));
  order.sort((a, b) => a.key - b.key);
  const batches: TextBatch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.slice(start, start + batchSize).map((o) => o.i);
    const longest = Math.max(...rows.map((r) => sequences[r].length));
    const seqLen = bucketLength(longest, maxLength);
    const ids = new Int32Array(rows.length * seqLen).fill(padId);
    const lengths = new Int32Array(rows.length);
    rows.forEach((r, b) => {
      ids.set(sequences[r], b * seqLen);
      lengths[b] = sequences[r].length;
    });
    batches.push({ rows, seqLen, ids, lengths });
  }
  if (rng) {
    for (let i = batches.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [batches[i], batches[j]] = [batches[j], batches[i]];
    }
  }
  return batches;
}
