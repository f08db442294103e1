import {
  BackendError,
  checkForwardInput,
  checkTruncateLength,
  concatArrays,
  type ForwardOptions,
  Logits,
  type ModelSpec,
  type Sequence,
  type SequenceCounters,
  throwIfAborted,
} from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import { type ChunkOutput, forwardChunk, type LayerCache, type RowSelection } from './tfjs-forward.js';
import type { Tf } from './tfjs-runtime.js';
import type { TfjsWeights } from './tfjs-weights.js';

/** What a sequence needs from its model: the live weights and tfjs activated on the model's kernel backend. */
export interface SequenceHost {
  readonly spec: ModelSpec;
  /** Tokens evaluated per forward chunk during prefill. */
  readonly batchSize: number;
  acquire(): Promise<{ tf: Tf; weights: TfjsWeights }>;
  release(sequence: TfjsSequence): void;
}

/**
 * A KV-cache slot over tfjs tensors. The cache of each layer is a [kvHeads, length, headDim] tensor pair, grown by
 * one concat per forward and cut by a slice on truncate; every intermediate lives inside `tf.tidy`, so nothing
 * leaks across calls.
 */
export class TfjsSequence implements Sequence {
  readonly contextSize: number;
  readonly counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  readonly #host: SequenceHost;
  #caches: LayerCache[];
  #tokens: number[] = [];
  #disposed = false;

  constructor(host: SequenceHost, contextSize: number) {
    this.#host = host;
    this.contextSize = contextSize;
    this.#caches = Array.from({ length: host.spec.nLayers }, () => ({}));
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  #live(): void {
    if (this.#disposed) throw new BackendError('the sequence was disposed');
  }

  async forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    const { data, positions } = await this.#evaluate(tokens, options.logits ?? 'last', 'logits', options.signal);
    return new Logits(data, this.#host.spec.vocabSize, positions);
  }

  /**
   * Evaluates `tokens` like `forward`, returning the final hidden states after the output norm ([rows, dim]) of
   * every position (`all`) or of the last one (`last`) instead of logits. Used by `TfjsModel.embed`.
   */
  async hiddenStates(
    tokens: readonly number[],
    rows: 'all' | 'last',
    signal?: AbortSignal,
  ): Promise<{ data: Float32Array; positions: number[] }> {
    return this.#evaluate(tokens, rows, 'hidden', signal);
  }

  async #evaluate(
    tokens: readonly number[],
    want: 'all' | 'last' | 'none',
    output: ChunkOutput,
    signal: AbortSignal | undefined,
  ): Promise<{ data: Float32Array; positions: number[] }> {
    this.#live();
    const spec = this.#host.spec;
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, spec.vocabSize);
    throwIfAborted(signal, 'forward');
    const { tf, weights } = await this.#host.acquire();
    const start = this.#tokens.length;
    const chunk = Math.max(1, this.#host.batchSize);
    const parts: Float32Array[] = [];
    const positions: number[] = [];
    // Work on a copy of the cache: the sequence changes only when every chunk succeeded.
    let caches = this.#caches;
    try {
      for (let offset = 0; offset < tokens.length; offset += chunk) {
        if (offset > 0) throwIfAborted(signal, 'forward');
        const ids = tokens.slice(offset, offset + chunk);
        const isLast = offset + ids.length >= tokens.length;
        const rows: RowSelection = want === 'all' ? 'all' : want === 'last' && isLast ? 'last' : 'none';
        const previous = caches;
        const result = tf.tidy(() =>
          forwardChunk(tf, spec, weights, previous, tf.tensor1d(ids, 'int32'), start + offset, rows, output),
        );
        if (previous !== this.#caches) disposeCaches(previous);
        caches = result.caches;
        if (result.rows) {
          const data = result.rows.dataSync() as Float32Array;
          result.rows.dispose();
          parts.push(data);
          const count = rows === 'all' ? ids.length : 1;
          for (let i = count; i > 0; i--) positions.push(start + offset + ids.length - i);
        }
      }
    } catch (error) {
      if (caches !== this.#caches) disposeCaches(caches);
      throw error;
    }
    disposeCaches(this.#caches);
    this.#caches = caches;
    this.#tokens.push(...tokens);
    this.counters.evaluatedTokens += tokens.length;
    this.counters.forwardCalls++;
    const data = parts.length === 1 ? parts[0] : concatArrays(parts, Float32Array);
    return { data, positions };
  }

  async truncate(length: number): Promise<void> {
    this.#live();
    checkTruncateLength(length, this.#tokens.length);
    if (length === this.#tokens.length) return;
    if (length === 0) return this.reset();
    const { tf } = await this.#host.acquire();
    const cut = this.#caches.map((c) =>
      tf.tidy(() => ({
        keys: tf.slice(c.keys as TF.Tensor3D, [0, 0, 0], [-1, length, -1]),
        values: tf.slice(c.values as TF.Tensor3D, [0, 0, 0], [-1, length, -1]),
      })),
    );
    disposeCaches(this.#caches);
    this.#caches = cut;
    this.#tokens.length = length;
  }

  async reset(): Promise<void> {
    this.#live();
    disposeCaches(this.#caches);
    this.#caches = this.#caches.map(() => ({}));
    this.#tokens = [];
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    disposeCaches(this.#caches);
    this.#caches = [];
    this.#tokens = [];
    this.#host.release(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

function disposeCaches(caches: readonly LayerCache[]): void {
  for (const c of caches) {
    c.keys?.dispose();
    c.values?.dispose();
  }
}
