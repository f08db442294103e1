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
import { createDecoderCache, type DecoderCache } from './decoder-cache.js';
import type { EmbeddingRows } from './embedding-rows.js';
import { INPUTS_EMBEDS } from './export/llama-graph.js';
import { SLOT_NAMES } from './export/slot-layers.js';
import type { OutputGarbage } from './output-garbage.js';
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
  /** Whether each fetched output arrives in a fresh buffer no one else holds (onnxruntime-node), so it can be kept. */
  ownsOutputs: boolean;
  /** `optimum`: past_key_values / present (any decoder); `slots`: slmkit's KV-slot decoder (`SLOT_NAMES`). */
  kvLayout: 'optimum' | 'slots';
  /** Whether the graph takes `logits_from` (KV-slot graphs: logits only from that position on). */
  hasLogitsFrom: boolean;
  /** Set when the graph takes `inputs_embeds`: reads the rows the graph would have gathered. */
  embeddings?: EmbeddingRows;
  /** Counts the output buffers each run hands over (onnxruntime-node), to collect them early. */
  outputGarbage?: OutputGarbage;
  file: string;
}

/** One KV-cache slot over an ONNX decoder session. */
export class OnnxSequence implements Sequence {
  readonly contextSize: number;
  readonly #io: OnnxGraphIo;
  readonly #cache: DecoderCache;
  readonly #counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  #tokens: number[] = [];
  #disposed = false;
  /** Single-token steps reuse these tensors, rewriting their one value (runs are serial). */
  #stepTensors?: { ids: BigInt64Array; positions: BigInt64Array; idsTensor: Tensor; positionsTensor: Tensor };

  readonly #onDispose?: () => void;
  /** Calls run one at a time: the cache buffers are shared between consecutive runs. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(io: OnnxGraphIo, contextSize: number, onDispose?: () => void) {
    this.#io = io;
    this.contextSize = contextSize;
    this.#cache = createDecoderCache(io, contextSize);
    this.#onDispose = onDispose;
  }

  /** The single-token `inputs_embeds` tensor, reused across steps (runs are serial). */
  #stepEmbeds?: { rows: Float32Array; tensor: Tensor };

  /** `inputs_embeds` [1, n, hidden] for `tokens`. */
  #embeddingRows(tokens: readonly number[]): Tensor {
    const embeddings = this.#io.embeddings as EmbeddingRows;
    const dim = embeddings.dim;
    if (tokens.length === 1) {
      if (!this.#stepEmbeds) {
        const rows = new Float32Array(dim);
        this.#stepEmbeds = { rows, tensor: this.#io.runtime.createTensor('float32', rows, [1, 1, dim]) };
      }
      embeddings.gather(tokens, this.#stepEmbeds.rows);
      return this.#stepEmbeds.tensor;
    }
    return this.#io.runtime.createTensor('float32', embeddings.rows(tokens), [1, tokens.length, dim]);
  }

  /** `logits_from` tensors for 0 (every row) and for each single-row start, reused (runs are serial). */
  #logitsFromTensors = new Map<number, Tensor>();

  #logitsFrom(from: number): Tensor {
    let tensor = this.#logitsFromTensors.get(from);
    if (!tensor) {
      tensor = this.#io.runtime.createTensor('int64', BigInt64Array.of(BigInt(from)), [1]);
      if (this.#logitsFromTensors.size < 64) this.#logitsFromTensors.set(from, tensor);
    }
    return tensor;
  }

  /** input_ids and position_ids tensors for one token at `position` (reused across single-token steps). */
  #stepInputs(token: number, position: number): { ids: Tensor; positions: Tensor } {
    if (!this.#stepTensors) {
      const rt = this.#io.runtime;
      const ids = new BigInt64Array(1);
      const positions = new BigInt64Array(1);
      this.#stepTensors = {
        ids,
        positions,
        idsTensor: rt.createTensor('int64', ids, [1, 1]),
        positionsTensor: rt.createTensor('int64', positions, [1, 1]),
      };
    }
    const step = this.#stepTensors;
    step.ids[0] = BigInt(token);
    step.positions[0] = BigInt(position);
    return { ids: step.idsTensor, positions: step.positionsTensor };
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
    const feeds: Record<string, Tensor> = {};
    if (n === 1) {
      const step = this.#stepInputs(tokens[0], past);
      if (!io.embeddings) feeds.input_ids = step.ids;
      if (io.hasPositionIds) feeds.position_ids = step.positions;
    } else {
      if (!io.embeddings) {
        feeds.input_ids = rt.createTensor(
          'int64',
          BigInt64Array.from(tokens, (t) => BigInt(t)),
          [1, n],
        );
      }
      if (io.hasPositionIds) {
        const positions = new BigInt64Array(n);
        for (let i = 0; i < n; i++) positions[i] = BigInt(past + i);
        feeds.position_ids = rt.createTensor('int64', positions, [1, n]);
      }
    }
    // Graphs that take the rows instead of the ids (read from the table's file, never mapped whole).
    if (io.embeddings) feeds[INPUTS_EMBEDS] = this.#embeddingRows(tokens);
    const fetches: Record<string, Tensor | null> = {};
    const vocab = io.vocabSize;
    const mode = options.logits ?? 'last';
    // KV-slot graphs compute logits from `logits_from` on: the last row alone skips n - 1 projections.
    const lastOnly = io.hasLogitsFrom && mode !== 'all';
    const rows = lastOnly ? 1 : n;
    if (io.hasLogitsFrom) feeds[SLOT_NAMES.logitsFrom] = this.#logitsFrom(lastOnly ? n - 1 : 0);
    // onnxruntime returns logits in a fresh buffer whatever we pass (onnxruntime-node 1.30 copies even pre-allocated
    // outputs), so let it allocate and keep that buffer: one copy per step, not two.
    fetches.logits = null;
    this.#cache.addFeeds(n, feeds, fetches);
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
    const out = results.logits?.data;
    if (!(out instanceof Float32Array) || out.length !== rows * vocab) {
      throw new BackendError(`onnxruntime returned logits of ${out?.length ?? 0} values; expected ${rows} x ${vocab}`, {
        file: io.file,
        field: 'logits',
      });
    }
    this.#cache.commit(n, results);
    if (io.outputGarbage) {
      let bytes = 0;
      for (const value of Object.values(results)) bytes += (value.data as ArrayBufferView).byteLength;
      io.outputGarbage.add(bytes);
    }
    this.#tokens.push(...tokens);
    this.#counters.evaluatedTokens += n;
    this.#counters.forwardCalls++;
    if (mode === 'none') return Logits.empty(vocab);
    // onnxruntime-node hands over a buffer of its own; onnxruntime-web's may be reused, so it is copied.
    const owned = io.ownsOutputs;
    if (mode === 'all') {
      return new Logits(
        owned ? out : out.slice(),
        vocab,
        Array.from({ length: n }, (_, i) => past + i),
      );
    }
    const last = rows === 1 && owned ? out : out.slice((rows - 1) * vocab, rows * vocab);
    return new Logits(last, vocab, [total - 1]);
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
      this.#stepTensors = undefined;
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
