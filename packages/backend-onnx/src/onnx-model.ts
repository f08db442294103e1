import {
  BackendError,
  type EmbedOptions,
  type LoadedModel,
  type ModelRuntimeInfo,
  type ModelSpec,
  resolveContextSize,
  type Sequence,
  type SequenceOptions,
  type Tokenizer,
} from '@slmkit/core';
import type { InferenceSession } from 'onnxruntime-common';
import { embedWithSession } from './onnx-embed.js';
import { type OnnxGraphIo, OnnxSequence } from './onnx-sequence.js';

/** A decoder session with its spec and tokenizer. */
export class OnnxLoadedModel implements LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  readonly #io: OnnxGraphIo;
  readonly #sequences = new Set<OnnxSequence>();
  #disposed = false;
  readonly #onDispose?: () => void;

  constructor(init: {
    spec: ModelSpec;
    tokenizer: Tokenizer;
    contextSize: number;
    info: ModelRuntimeInfo;
    io: OnnxGraphIo;
    onDispose?: () => void;
  }) {
    this.spec = init.spec;
    this.tokenizer = init.tokenizer;
    this.contextSize = init.contextSize;
    this.info = init.info;
    this.#io = init.io;
    this.#onDispose = init.onDispose;
  }

  /** The ONNX Runtime session (for advanced use: its input/output names and metadata). */
  get session(): InferenceSession {
    return this.#io.session;
  }

  async createSequence(options: SequenceOptions = {}): Promise<Sequence> {
    if (this.#disposed) throw new BackendError('the model was disposed', { field: 'model' });
    const contextSize = resolveContextSize(options.contextSize, this.contextSize);
    const sequence: OnnxSequence = new OnnxSequence(this.#io, contextSize, () => this.#sequences.delete(sequence));
    this.#sequences.add(sequence);
    return sequence;
  }

  /**
   * Pooled final hidden states from the graph's `last_hidden_state` output (every slmkit export has it). Third-party
   * graphs without it throw UnsupportedFeatureError naming the file and the output.
   */
  async embed(tokens: readonly number[], options: EmbedOptions = {}): Promise<Float32Array> {
    if (this.#disposed) throw new BackendError('the model was disposed', { field: 'model' });
    return embedWithSession(this.#io, this.contextSize, tokens, options);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const s of [...this.#sequences]) await s.dispose();
    this.#sequences.clear();
    await this.#io.session.release();
    this.#io.embeddings?.close();
    this.#onDispose?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
