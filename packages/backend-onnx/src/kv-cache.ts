/** Capacity for `length` positions: the next multiple of `step`, capped at `maxLength` (never below `length`). */
export function grownCapacity(length: number, step: number, maxLength: number): number {
  return Math.max(length, Math.min(Math.ceil(length / step) * step, maxLength));
}

/**
 * The KV cache of one sequence: per layer, a key and a value buffer laid out [kvHeads, length, headDim] (batch 1),
 * the layout of Optimum's `past_key_values.*` inputs. Two buffers per tensor are used in turn: ORT reads the past
 * from one and writes `present` straight into the other (a pre-allocated output), so we never copy the cache in JS
 * (onnxruntime-node 1.30 still returns its own copy of every output, which we drop). Capacity grows in steps of
 * `growthStep` positions (default 64) up to the context size, so the two buffers hold at most one step more than the
 * sequence needs (doubling would hold up to twice).
 */
export class KvCache {
  readonly #layers: number;
  readonly #kvHeads: number;
  readonly #headDim: number;
  readonly #maxLength: number;
  readonly #growthStep: number;
  #buffers: [Float32Array[], Float32Array[]];
  #current = 0;
  #capacity: number;
  length = 0;

  constructor(layers: number, kvHeads: number, headDim: number, maxLength: number, growthStep = 64) {
    this.#layers = layers;
    this.#kvHeads = kvHeads;
    this.#headDim = headDim;
    this.#maxLength = maxLength;
    this.#growthStep = Math.max(1, growthStep);
    this.#capacity = Math.min(maxLength, this.#growthStep);
    this.#buffers = [this.#allocate(this.#capacity), this.#allocate(this.#capacity)];
  }

  #allocate(capacity: number): Float32Array[] {
    const size = this.#kvHeads * capacity * this.#headDim;
    return Array.from({ length: this.#layers * 2 }, () => new Float32Array(size));
  }

  /** Elements of one cache tensor holding `length` positions. */
  size(length: number): number {
    return this.#kvHeads * length * this.#headDim;
  }

  /** Makes room for `length` positions (keeps the cached ones). */
  reserve(length: number): void {
    if (length <= this.#capacity) return;
    const capacity = grownCapacity(length, this.#growthStep, this.#maxLength);
    const grown = this.#allocate(capacity);
    const used = this.size(this.length);
    for (const [i, b] of this.#buffers[this.#current].entries()) grown[i].set(b.subarray(0, used));
    this.#buffers = this.#current === 0 ? [grown, this.#allocate(capacity)] : [this.#allocate(capacity), grown];
    this.#capacity = capacity;
  }

  /** The cached tensor `index` (layer * 2 + 0 for key, + 1 for value), viewed at the current length. */
  past(index: number): Float32Array {
    return this.#buffers[this.#current][index].subarray(0, this.size(this.length));
  }

  /** Where `present` tensor `index` for `length` positions is written. */
  next(index: number, length: number): Float32Array {
    return this.#buffers[1 - this.#current][index].subarray(0, this.size(length));
  }

  /** Makes the buffers written by the last run the current cache. */
  commit(length: number): void {
    this.#current = 1 - this.#current;
    this.length = length;
  }

  /** Keeps the first `length` positions: repacks each [kvHeads, length, headDim] buffer in place. */
  truncate(length: number): void {
    if (length >= this.length) return;
    const rowSize = this.#headDim;
    for (const buffer of this.#buffers[this.#current]) {
      for (let h = 1; h < this.#kvHeads; h++) {
        const src = h * this.length * rowSize;
        buffer.copyWithin(h * length * rowSize, src, src + length * rowSize);
      }
    }
    this.length = length;
  }

  /** Drops the buffers (the cache is empty and tiny afterwards). */
  release(): void {
    this.#capacity = 0;
    this.length = 0;
    this.#buffers = [this.#allocate(0), this.#allocate(0)];
  }

  /** Positions the buffers can hold without growing. */
  get capacity(): number {
    return this.#capacity;
  }

  get layers(): number {
    return this.#layers;
  }

  get kvHeads(): number {
    return this.#kvHeads;
  }

  get headDim(): number {
    return this.#headDim;
  }
}
