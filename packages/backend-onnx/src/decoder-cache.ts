import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { SLOT_NAMES } from './export/slot-layers.js';
import { KvCache } from './kv-cache.js';
import type { OnnxGraphIo } from './onnx-sequence.js';
import { SlotKvCache } from './slot-kv-cache.js';

type Feeds = Record<string, Tensor>;
type Fetches = Record<string, Tensor | null>;

/** How a sequence's KV cache meets the graph: the feeds and fetches of a run, and what a run leaves behind. */
export interface DecoderCache {
  /** Cached positions. */
  readonly length: number;
  /** Adds the cache's inputs (and outputs to fetch) for evaluating `n` tokens after the cached ones. */
  addFeeds(n: number, feeds: Feeds, fetches: Fetches): void;
  /** Takes a run's outputs into the cache; `length` grows by `n`. */
  commit(n: number, results: InferenceSession.ReturnType): void;
  truncate(length: number): void;
  release(): void;
}

/** The decoder cache for the graph `io` describes. */
export function createDecoderCache(io: OnnxGraphIo, contextSize: number): DecoderCache {
  return io.kvLayout === 'slots' ? new SlotDecoderCache(io, contextSize) : new OptimumDecoderCache(io, contextSize);
}

/**
 * Optimum's I/O: `attention_mask` and `past_key_values.*` of the cached length in, `present.*` of the total length
 * out. ORT writes the presents into our second buffer set (pre-allocated outputs, onnxruntime-node), or we copy them.
 */
class OptimumDecoderCache implements DecoderCache {
  readonly #io: OnnxGraphIo;
  readonly #cache: KvCache;
  readonly #contextSize: number;
  /** All ones; attention_mask inputs are views of its prefix (no per-call allocation). */
  #ones = new BigInt64Array(0);
  /** Graph input / output names of the cache, per layer: past key, past value, present key, present value. */
  readonly #names: readonly (readonly [string, string, string, string])[];

  constructor(io: OnnxGraphIo, contextSize: number) {
    this.#io = io;
    this.#contextSize = contextSize;
    this.#cache = new KvCache(io.layers, io.kvHeads, io.headDim, contextSize);
    this.#names = Array.from(
      { length: io.layers },
      (_, l) => [io.pastKey(l), io.pastValue(l), io.presentKey(l), io.presentValue(l)] as const,
    );
  }

  get length(): number {
    return this.#cache.length;
  }

  addFeeds(n: number, feeds: Feeds, fetches: Fetches): void {
    const io = this.#io;
    const rt = io.runtime;
    const cache = this.#cache;
    const past = cache.length;
    const total = past + n;
    cache.reserve(total);
    if (io.hasAttentionMask) {
      if (this.#ones.length < total)
        this.#ones = new BigInt64Array(Math.min(this.#contextSize, Math.max(total, 2 * this.#ones.length))).fill(1n);
      feeds.attention_mask = rt.createTensor('int64', this.#ones.subarray(0, total), [1, total]);
    }
    const pastDims = [1, io.kvHeads, past, io.headDim];
    const presentDims = [1, io.kvHeads, total, io.headDim];
    for (let l = 0; l < io.layers; l++) {
      const [pastKey, pastValue, presentKey, presentValue] = this.#names[l];
      feeds[pastKey] = rt.createTensor('float32', cache.past(2 * l), pastDims);
      feeds[pastValue] = rt.createTensor('float32', cache.past(2 * l + 1), pastDims);
      fetches[presentKey] = io.preallocateOutputs
        ? rt.createTensor('float32', cache.next(2 * l, total), presentDims)
        : null;
      fetches[presentValue] = io.preallocateOutputs
        ? rt.createTensor('float32', cache.next(2 * l + 1, total), presentDims)
        : null;
    }
  }

  commit(n: number, results: InferenceSession.ReturnType): void {
    const cache = this.#cache;
    const total = cache.length + n;
    if (!this.#io.preallocateOutputs) {
      for (let l = 0; l < this.#io.layers; l++) {
        const [, , presentKey, presentValue] = this.#names[l];
        cache.next(2 * l, total).set(results[presentKey].data as Float32Array);
        cache.next(2 * l + 1, total).set(results[presentValue].data as Float32Array);
      }
    }
    cache.commit(total);
  }

  truncate(length: number): void {
    this.#cache.truncate(length);
  }

  release(): void {
    this.#cache.release();
  }
}

/** slmkit's KV-slot I/O (`SLOT_NAMES`): fixed-capacity buffers in, only the new positions out. */
class SlotDecoderCache implements DecoderCache {
  readonly #io: OnnxGraphIo;
  readonly #cache: SlotKvCache;

  constructor(io: OnnxGraphIo, contextSize: number) {
    this.#io = io;
    this.#cache = new SlotKvCache(io.layers, io.kvHeads, io.headDim, contextSize);
  }

  get length(): number {
    return this.#cache.length;
  }

  addFeeds(n: number, feeds: Feeds, fetches: Fetches): void {
    const io = this.#io;
    const rt = io.runtime;
    const cache = this.#cache;
    cache.reserve(cache.length + n);
    const capacity = cache.capacity;
    feeds[SLOT_NAMES.pastBias] = rt.createTensor('float32', cache.bias, [1, 1, 1, capacity]);
    for (let l = 0; l < io.layers; l++) {
      feeds[SLOT_NAMES.cacheKeyT(l)] = rt.createTensor('float32', cache.keysT(l), [
        1,
        io.kvHeads,
        io.headDim,
        capacity,
      ]);
      feeds[SLOT_NAMES.cacheValue(l)] = rt.createTensor('float32', cache.values(l), [
        1,
        io.kvHeads,
        capacity,
        io.headDim,
      ]);
      fetches[SLOT_NAMES.newKeyT(l)] = null;
      fetches[SLOT_NAMES.newValue(l)] = null;
    }
  }

  commit(n: number, results: InferenceSession.ReturnType): void {
    const io = this.#io;
    const cache = this.#cache;
    const start = cache.length;
    for (let l = 0; l < io.layers; l++) {
      cache.write(
        l,
        start,
        n,
        results[SLOT_NAMES.newKeyT(l)].data as Float32Array,
        results[SLOT_NAMES.newValue(l)].data as Float32Array,
      );
    }
    cache.commit(start + n);
  }

  truncate(length: number): void {
    this.#cache.truncate(length);
  }

  release(): void {
    this.#cache.release();
  }
}
