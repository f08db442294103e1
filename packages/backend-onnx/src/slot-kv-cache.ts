import { MASKED } from './export/layer-parts.js';
import { grownCapacity } from './kv-cache.js';

/**
 * The KV cache of one sequence for slmkit's KV-slot decoder (`SLOT_NAMES`): per layer a key buffer laid out
 * [kvHeads, headDim, capacity] (transposed, so the graph multiplies by it directly) and a value buffer
 * [kvHeads, capacity, headDim], plus the `past_bias` row [capacity] (0 for slots holding a cached token, -1e9 for
 * free ones). The graph reads them in place and returns only the new tokens' keys/values, which `write` stores at
 * their positions: nothing proportional to the cache is copied per step. Capacity grows in steps of `growthStep`
 * positions (default 64) up to the context size.
 *
 * All buffers are views into one allocation sized for the whole context, each at the front of its own region:
 * growing re-lays a region out in place, so no buffer is ever dropped for the garbage collector, and the operating
 * system commits only the pages the current capacity touches (an allocation that large is mapped, zero pages on
 * demand, so the reserved tail costs address space, not memory).
 */
export class SlotKvCache {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly #maxLength: number;
  readonly #growthStep: number;
  /** 2 * layers regions (keys, values of layer 0, then layer 1, ...) of kvHeads * headDim * maxLength floats. */
  #store = new Float32Array(0);
  #keysT: Float32Array[] = [];
  #values: Float32Array[] = [];
  #bias = new Float32Array(0);
  #capacity = 0;
  length = 0;

  constructor(layers: number, kvHeads: number, headDim: number, maxLength: number, growthStep = 64) {
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.#maxLength = maxLength;
    this.#growthStep = Math.max(1, growthStep);
    this.#resize(Math.min(maxLength, this.#growthStep));
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Makes room for `length` positions (keeps the cached ones). */
  reserve(length: number): void {
    if (length <= this.#capacity) return;
    this.#resize(grownCapacity(length, this.#growthStep, this.#maxLength));
  }

  #resize(capacity: number): void {
    const { kvHeads, headDim, layers } = this;
    const region = kvHeads * headDim * this.#maxLength;
    if (this.#store.length === 0 && capacity > 0) this.#store = new Float32Array(2 * layers * region);
    const old = this.#capacity;
    const used = Math.min(this.length, capacity);
    const store = this.#store;
    if (old > 0 && capacity > old) {
      for (let l = 0; l < layers; l++) {
        // Last row (head) first: a row only moves towards the end, over rows already moved.
        const keys = 2 * l * region;
        for (let r = kvHeads * headDim - 1; r >= 0; r--) {
          store.copyWithin(keys + r * capacity, keys + r * old, keys + r * old + used);
          store.fill(0, keys + r * capacity + used, keys + (r + 1) * capacity);
        }
        const values = (2 * l + 1) * region;
        for (let h = kvHeads - 1; h >= 0; h--) {
          store.copyWithin(
            values + h * capacity * headDim,
            values + h * old * headDim,
            values + (h * old + used) * headDim,
          );
          store.fill(0, values + (h * capacity + used) * headDim, values + (h + 1) * capacity * headDim);
        }
      }
    }
    const size = kvHeads * headDim * capacity;
    this.#keysT = Array.from({ length: layers }, (_, l) => store.subarray(2 * l * region, 2 * l * region + size));
    this.#values = Array.from({ length: layers }, (_, l) =>
      store.subarray((2 * l + 1) * region, (2 * l + 1) * region + size),
    );
    this.#bias = new Float32Array(capacity).fill(MASKED);
    this.#bias.fill(0, 0, used);
    this.#capacity = capacity;
  }

  /** Layer `layer`'s transposed keys [kvHeads, headDim, capacity] (the graph's `cache.{i}.key_t`). */
  keysT(layer: number): Float32Array {
    return this.#keysT[layer];
  }

  /** Layer `layer`'s values [kvHeads, capacity, headDim] (the graph's `cache.{i}.value`). */
  values(layer: number): Float32Array {
    return this.#values[layer];
  }

  /** The `past_bias` row [capacity]. */
  get bias(): Float32Array {
    return this.#bias;
  }

  /**
   * Stores `count` new positions from `start` for one layer: `newKeysT` [kvHeads, headDim, count] and `newValues`
   * [kvHeads, count, headDim], as the graph returns them. `reserve` must have made room.
   */
  write(layer: number, start: number, count: number, newKeysT: Float32Array, newValues: Float32Array): void {
    const { kvHeads, headDim } = this;
    const capacity = this.#capacity;
    if (start + count > capacity) throw new RangeError(`positions ${start}+${count} exceed capacity ${capacity}`);
    const keys = this.#keysT[layer];
    const values = this.#values[layer];
    for (let r = 0; r < kvHeads * headDim; r++) {
      const src = r * count;
      const dst = r * capacity + start;
      for (let s = 0; s < count; s++) keys[dst + s] = newKeysT[src + s];
    }
    for (let h = 0; h < kvHeads; h++) {
      values.set(newValues.subarray(h * count * headDim, (h + 1) * count * headDim), (h * capacity + start) * headDim);
    }
  }

  /** Marks positions [0, length) as cached (after `write` for every layer). */
  commit(length: number): void {
    this.#bias.fill(0, this.length, length);
    this.length = length;
  }

  /** Keeps the first `length` positions; the rest become free slots again. */
  truncate(length: number): void {
    if (length >= this.length) return;
    this.#bias.fill(MASKED, length, this.length);
    this.length = length;
  }

  /** Drops the buffers (the cache is empty and holds no memory afterwards). */
  release(): void {
    this.length = 0;
    this.#capacity = 0;
    this.#store = new Float32Array(0);
    this.#resize(0);
  }
}
