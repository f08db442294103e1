import { InvalidArgumentError } from '@slmkit/core';
import { TrainRng } from './train-rng.js';

/** Where the sampler is: the epoch and the next window of its shuffled order (saved in checkpoints). */
export interface BatchCursor {
  epoch: number;
  index: number;
}

/**
 * Cuts a token stream into windows of seqLen + 1 tokens and serves them in a shuffled order per epoch (the
 * order of epoch e depends only on the seed and e, so a cursor is enough to resume exactly).
 */
export class TokenBatches {
  readonly seqLen: number;
  readonly batchSize: number;
  readonly windows: number;
  readonly #tokens: Int32Array;
  readonly #seed: number;
  #order: number[] = [];
  #orderEpoch = -1;
  cursor: BatchCursor = { epoch: 0, index: 0 };

  constructor(tokens: Int32Array, seqLen: number, batchSize: number, seed: number, what = 'training corpus') {
    this.#tokens = tokens;
    this.seqLen = seqLen;
    this.batchSize = batchSize;
    this.#seed = seed;
    this.windows = tokens.length > seqLen ? Math.floor((tokens.length - 1) / seqLen) : 0;
    if (tokens.length === 0) {
      throw new InvalidArgumentError(`the ${what} is empty (0 tokens)`, { field: what, value: 0 });
    }
    if (this.windows < batchSize) {
      throw new InvalidArgumentError(
        `the ${what} holds ${tokens.length} tokens (${this.windows} windows of ${seqLen + 1}), fewer than one batch of ${batchSize} windows needs (${batchSize * seqLen + 1} tokens); add text or lower batchSize/seqLen`,
        { field: what, value: tokens.length },
      );
    }
  }

  #orderFor(epoch: number): number[] {
    if (this.#orderEpoch !== epoch) {
      const rng = new TrainRng((this.#seed ^ Math.imul(epoch + 1, 0x27d4eb2d)) >>> 0);
      this.#order = rng.shuffle(Array.from({ length: this.windows }, (_, i) => i));
      this.#orderEpoch = epoch;
    }
    return this.#order;
  }

  /** The next batch: inputs and targets, each batchSize x seqLen, row-major. */
  next(): { inputs: Int32Array; targets: Int32Array } {
    const { seqLen, batchSize } = this;
    const inputs = new Int32Array(batchSize * seqLen);
    const targets = new Int32Array(batchSize * seqLen);
    for (let b = 0; b < batchSize; b++) {
      if (this.cursor.index >= this.windows) this.cursor = { epoch: this.cursor.epoch + 1, index: 0 };
      const start = this.#orderFor(this.cursor.epoch)[this.cursor.index++] * seqLen;
      inputs.set(this.#tokens.subarray(start, start + seqLen), b * seqLen);
      targets.set(this.#tokens.subarray(start + 1, start + seqLen + 1), b * seqLen);
    }
    return { inputs, targets };
  }

  /** The first `count` batches in stream order (no shuffling): a fixed validation set. */
  fixedBatches(count: number): Array<{ inputs: Int32Array; targets: Int32Array }> {
    const out: Array<{ inputs: Int32Array; targets: Int32Array }> = [];
    const { seqLen, batchSize } = this;
    const total = Math.min(count, Math.floor(this.windows / batchSize));
    for (let k = 0; k < total; k++) {
      const inputs = new Int32Array(batchSize * seqLen);
      const targets = new Int32Array(batchSize * seqLen);
      for (let b = 0; b < batchSize; b++) {
        const start = (k * batchSize + b) * seqLen;
        inputs.set(this.#tokens.subarray(start, start + seqLen), b * seqLen);
        targets.set(this.#tokens.subarray(start + 1, start + seqLen + 1), b * seqLen);
      }
      out.push({ inputs, targets });
    }
    return out;
  }
}
