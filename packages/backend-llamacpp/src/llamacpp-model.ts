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
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { LlamaCppEmbedder } from './llamacpp-embedder.js';
import { LlamaCppSequence } from './llamacpp-sequence.js';
import { bindNativeContext } from './native-binding.js';

export interface LlamaCppModelSettings {
  spec: ModelSpec;
  tokenizer: Tokenizer;
  contextSize: number;
  batchSize: number;
  threads: number;
  flashAttention: boolean;
  info: ModelRuntimeInfo;
  /** The GGUF file loaded, for error messages. */
  file: string;
  /** Reads (and clears) recent llama.cpp error log lines, for error messages. */
  takeNativeErrors: () => string;
}

/**
 * A GGUF model loaded into llama.cpp. Each sequence gets a llama.cpp context of its own (one KV cache, one native
 * sequence), so sequences never contend for a shared batch queue; small contexts cost little memory.
 */
export class LlamaCppModel implements LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #settings: LlamaCppModelSettings;
  readonly #sequences = new Set<LlamaCppSequence>();
  #embedder: Promise<LlamaCppEmbedder> | undefined;
  #disposed = false;

  constructor(llama: Llama, model: LlamaModel, settings: LlamaCppModelSettings) {
    this.#llama = llama;
    this.#model = model;
    this.#settings = settings;
    this.spec = settings.spec;
    this.tokenizer = settings.tokenizer;
    this.contextSize = settings.contextSize;
    this.info = settings.info;
  }

  /** The node-llama-cpp model underneath (for tools that need its own API, e.g. tokenization checks). */
  get native(): LlamaModel {
    return this.#model;
  }

  async createSequence(options: SequenceOptions = {}): Promise<Sequence> {
    if (this.#disposed) throw new BackendError('the model is disposed', { field: 'model' });
    const contextSize = resolveContextSize(options.contextSize, this.contextSize);
    const batchSize = Math.min(this.#settings.batchSize, contextSize);
    let context: Awaited<ReturnType<LlamaModel['createContext']>>;
    try {
      context = await this.#model.createContext({
        contextSize,
        batchSize,
        sequences: 1,
        threads: this.#settings.threads,
        flashAttention: this.#settings.flashAttention,
        failedCreationRemedy: false,
        ignoreMemorySafetyChecks: false,
      });
    } catch (error) {
      throw new BackendError(
        `llama.cpp could not create a context of ${contextSize} tokens: ${String(error)} ${this.#settings.takeNativeErrors()}`.trim(),
        { field: 'contextSize', value: contextSize, cause: error },
      );
    }
    try {
      const native = bindNativeContext(this.#llama, this.#model, context, context.getSequence());
      // Decoding bypasses node-llama-cpp's thread splitter, so the context runs exactly the threads chosen at load.
      native.context.setThreads(this.#settings.threads);
      const sequence: LlamaCppSequence = new LlamaCppSequence(
        context,
        native,
        { contextSize, batchSize, vocabSize: this.spec.vocabSize },
        () => this.#sequences.delete(sequence),
      );
      this.#sequences.add(sequence);
      return sequence;
    } catch (error) {
      await context.dispose();
      throw error;
    }
  }

  /**
   * Pooled final hidden states (after the output norm) of `tokens` from an empty cache, from an embeddings context
   * created on first use (sized to the loaded context) and kept until the model is disposed.
   */
  async embed(tokens: readonly number[], options: EmbedOptions = {}): Promise<Float32Array> {
    if (this.#disposed) throw new BackendError('the model is disposed', { field: 'model' });
    if (!this.#embedder) {
      this.#embedder = LlamaCppEmbedder.create(this.#llama, this.#model, {
        contextSize: this.contextSize,
        batchSize: Math.min(this.#settings.batchSize, this.contextSize),
        threads: this.#settings.threads,
        flashAttention: this.#settings.flashAttention,
        vocabSize: this.spec.vocabSize,
        dim: this.spec.dim,
        file: this.#settings.file,
      });
      this.#embedder.catch(() => {
        this.#embedder = undefined;
      });
    }
    return (await this.#embedder).embed(tokens, options);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const sequence of [...this.#sequences]) await sequence.dispose();
    const embedder = await this.#embedder?.catch(() => undefined);
    this.#embedder = undefined;
    await embedder?.dispose();
    await this.#model.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
