import {
  BackendError,
  checkForwardInput,
  checkTruncateLength,
  type ForwardOptions,
  Logits,
  type Sequence,
  type SequenceCounters,
  throwIfAborted,
} from '@slmkit/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { KvCache } from './kv-cache.js';
import type { OrtRuntime } from './runtime/runtime-seam.js';

/** What a sequence needs to know about the loaded graph. */
export interface OnnxGraphIo {
  session: InferenceSession;
  runtime: OrtRuntime;
  vocabSize: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Graph input names present in this model. */
  hasAttentionMask: boolean;
  hasPositionIds: boolean;
  pastKey: (layer: number) => string;
  pastValue: (layer: number) => string;
  presentKey: (layer: number) => string;
  presentValue: (layer: number) => string;
  /** Whether ORT may write outputs into our buffers (off when the runtime rejects pre-allocated outputs). */
  preallocateOutputs: boolean;
  file: string;
}

/** One KV-cache slot over an ONNX decoder session. */
export class OnnxSequence implements Sequence {
  readonly contextSize: number;
  readonly #io: OnnxGraphIo;
  readonly #cache: KvCache;
  readonly #counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  #tokens: number[] = [];
  #disposed = false;
  #logitBuffer = new Float32Array(0);
  /** All ones; attention_mask inputs are views of its prefix (no per-call allocation). */
  #ones = new BigInt64Array(0);

  readonly #onDispose?: () => void;
  /** Calls run one at a time: the cache buffers are shared between consecutive runs. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(io: OnnxGraphIo, contextSize: number, onDispose?: () => void) {
    this.#io = io;
    this.contextSize = contextSize;
    this.#cache = new KvCache(io.layers, io.kvHeads, io.headDim, contextSize);
    this.#onDispose = onDispose;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  get counters(): Readonly<SequenceCounters> {
    return this.#counters;
  }

  forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    return this.#serial(() => this.#forward(tokens, options));
  }

  async #forward(tokens: readonly number[], options: ForwardOptions): Promise<Logits> {
    this.#checkOpen();
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, this.#io.vocabSize);
    throwIfAborted(options.signal, 'forward');
    const io = this.#io;
    const rt = io.runtime;
    const past = this.#cache.length;
    const n = tokens.length;
    const total = past + n;
    this.#cache.reserve(total);
    const feeds: Record<string, Tensor> = {
      input_ids: rt.createTensor(
        'int64',
        BigInt64Array.from(tokens, (t) => BigInt(t)),
        [1, n],
      ),
    };
    if (io.hasAttentionMask) {
      if (this.#ones.length < total)
        this.#ones = new BigInt64Array(Math.min(this.contextSize, Math.max(total, 2 * this.#ones.length))).fill(1n);
      feeds.attention_mask = rt.createTensor('int64', this.#ones.subarray(0, total), [1, total]);
    }
    if (io.hasPositionIds) {
      const positions = new BigInt64Array(n);
      for (let i = 0; i < n; i++) positions[i] = BigInt(past + i);
      feeds.position_ids = rt.createTensor('int64', positions, [1, n]);
    }
    const pastDims = [1, io.kvHeads, past, io.headDim];
    const presentDims = [1, io.kvHeads, total, io.headDim];
    const fetches: Record<string, Tensor | null> = {};
    const vocab = io.vocabSize;
    if (this.#logitBuffer.length < n * vocab) this.#logitBuffer = new Float32Array(n * vocab);
    const logitView = this.#logitBuffer.subarray(0, n * vocab);
    fetches.logits = io.preallocateOutputs ? rt.createTensor('float32', logitView, [1, n, vocab]) : null;
    for (let l = 0; l < io.layers; l++) {
      feeds[io.pastKey(l)] = rt.createTensor('float32', this.#cache.past(2 * l), pastDims);
      feeds[io.pastValue(l)] = rt.createTensor('float32', this.#cache.past(2 * l + 1), pastDims);
      fetches[io.presentKey(l)] = io.preallocateOutputs
        ? rt.createTensor('float32', this.#cache.next(2 * l, total), presentDims)
        : null;
      fetches[io.presentValue(l)] = io.preallocateOutputs
        ? rt.createTensor('float32', this.#cache.next(2 * l + 1, total), presentDims)
        : null;
    }
    let results: InferenceSession.ReturnType;
    try {
      // Always name the fetches (null = ORT allocates): the graph's other outputs (last_hidden_state) are not needed.
      results = await io.session.run(feeds, fetches);
    } catch (error) {
      throw new BackendError(`onnxruntime failed to run the decoder: ${(error as Error).message}`, {
        file: io.file,
        cause: error,
      });
    }
    if (!io.preallocateOutputs) {
      logitView.set(results.logits.data as Float32Array);
      for (let l = 0; l < io.layers; l++) {
        this.#cache.next(2 * l, total).set(results[io.presentKey(l)].data as Float32Array);
        this.#cache.next(2 * l + 1, total).set(results[io.presentValue(l)].data as Float32Array);
      }
    }
    this.#cache.commit(total);
    this.#tokens.push(...tokens);
    this.#counters.evaluatedTokens += n;
    this.#counters.forwardCalls++;
    const mode = options.logits ?? 'last';
    if (mode === 'none') return Logits.empty(vocab);
    if (mode === 'all') {
      return new Logits(
        logitView.slice(),
        vocab,
        Array.from({ length: n }, (_, i) => past + i),
      );
    }
    return new Logits(logitView.slice((n - 1) * vocab, n * vocab), vocab, [total - 1]);
  }

  truncate(length: number): Promise<void> {
    return this.#serial(async () => {
      this.#checkOpen();
      checkTruncateLength(length, this.#tokens.length);
      this.#cache.truncate(length);
      this.#tokens.length = length;
    });
  }

  reset(): Promise<void> {
    return this.#serial(async () => {
      this.#checkOpen();
      this.#cache.truncate(0);
      this.#tokens = [];
    });
  }

  dispose(): Promise<void> {
    return this.#serial(async () => {
      if (this.#disposed) return;
      this.#disposed = true;
      this.#tokens = [];
      this.#cache.release();
      this.#logitBuffer = new Float32Array(0);
      this.#onDispose?.();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #checkOpen(): void {
    if (this.#disposed) throw new BackendError('the sequence was disposed', { field: 'sequence' });
  }
}
