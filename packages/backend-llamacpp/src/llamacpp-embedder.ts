import {
  AbortError,
  BackendError,
  checkForwardInput,
  type EmbedOptions,
  poolEmbedding,
  SlmError,
  throwIfAborted,
} from '@slmkit/core';
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';
import {
  bindEmbeddingContext,
  embeddingRow,
  type NativeBinding,
  type NativeEmbeddingContext,
} from './native-binding.js';

export interface LlamaCppEmbedderSettings {
  contextSize: number;
  batchSize: number;
  threads: number;
  flashAttention: boolean;
  vocabSize: number;
  dim: number;
  /** The GGUF file, for error messages. */
  file: string;
}

/**
 * llama.cpp's `LLAMA_POOLING_TYPE_MEAN`. The backend loads every model with `llama.pooling_type` overridden to it
 * (`EMBEDDING_METADATA_OVERRIDES`): pooling only acts in embeddings contexts, so generation is unchanged, and an
 * embeddings context then returns the mean of the final hidden states of each decoded batch in one native call.
 */
const LLAMA_POOLING_TYPE_MEAN = 1;

/** Metadata overrides for `loadModel` that make embeddings contexts pool by mean (see `LlamaCppEmbedder`). */
export const EMBEDDING_METADATA_OVERRIDES = { llama: { pooling_type: LLAMA_POOLING_TYPE_MEAN } } as const;

/**
 * Final hidden states (after the output norm) from a llama.cpp embeddings context: a context of its own, created on
 * the first `embed` and disposed with the model.
 *
 * The addon exposes one vector per decode (`getEmbedding`): with the model's pooling type forced to MEAN
 * (`EMBEDDING_METADATA_OVERRIDES`, whatever the GGUF says) that is llama.cpp's mean over the batch just decoded,
 * attending to the cached tokens before it. So `mean` pooling decodes the text in batches and weights each batch's
 * mean by its length (one batch for any text up to the batch size), and `last` pooling decodes all but the last token
 * and then the last token alone, whose one-row mean is its hidden state.
 */
export class LlamaCppEmbedder {
  readonly #context: LlamaContext;
  readonly #native: NativeBinding & { context: NativeEmbeddingContext };
  readonly #settings: LlamaCppEmbedderSettings;
  #tail: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(
    context: LlamaContext,
    native: NativeBinding & { context: NativeEmbeddingContext },
    settings: LlamaCppEmbedderSettings,
  ) {
    this.#context = context;
    this.#native = native;
    this.#settings = settings;
  }

  static async create(llama: Llama, model: LlamaModel, settings: LlamaCppEmbedderSettings): Promise<LlamaCppEmbedder> {
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize: settings.contextSize,
        batchSize: settings.batchSize,
        sequences: 1,
        threads: settings.threads,
        flashAttention: settings.flashAttention,
        failedCreationRemedy: false,
        ignoreMemorySafetyChecks: false,
        // node-llama-cpp's own switch for embedding contexts (LlamaEmbeddingContext sets it the same way).
        ...({ _embeddings: true } as object),
      });
    } catch (error) {
      throw new BackendError(`llama.cpp could not create an embeddings context: ${String(error)}`, {
        file: settings.file,
        cause: error,
      });
    }
    try {
      const native = bindEmbeddingContext(llama, model, context, context.getSequence());
      native.context.setThreads(settings.threads);
      return new LlamaCppEmbedder(context, native, settings);
    } catch (error) {
      await context.dispose();
      throw error;
    }
  }

  /** Pooled hidden states of `tokens`, evaluated from an empty cache. Calls run one at a time. */
  embed(tokens: readonly number[], options: EmbedOptions = {}): Promise<Float32Array> {
    const run = this.#tail.then(() => this.#embed(tokens, options));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #embed(tokens: readonly number[], options: EmbedOptions): Promise<Float32Array> {
    if (this.#disposed) throw new BackendError('the model is disposed', { field: 'model' });
    const { contextSize, vocabSize, dim } = this.#settings;
    checkForwardInput(tokens, 0, contextSize, vocabSize);
    throwIfAborted(options.signal, 'Embedding');
    if (tokens.length === 0) return poolEmbedding([], options);
    const { context, sequenceId } = this.#native;
    const { batchSize } = this.#settings;
    const last = options.pooling === 'last';
    // `last`: the prefix only fills the cache; the final token is decoded alone, and its one-row mean is its state.
    const prefixEnd = last ? tokens.length - 1 : tokens.length;
    let pooled: Float32Array;
    try {
      const decode = async (offset: number, end: number): Promise<Float32Array> => {
        if (options.signal?.aborted) throw new AbortError('Embedding was aborted', { cause: options.signal.reason });
        context.initBatch(end - offset);
        context.addToBatch(
          sequenceId,
          offset,
          Uint32Array.from(tokens.slice(offset, end)),
          Uint32Array.of(end - offset - 1),
        );
        await context.decodeBatch();
        return embeddingRow(context.getEmbedding(end - offset), dim);
      };
      // Each batch's mean, weighted by its length: the mean over all tokens.
      const sum = new Float64Array(dim);
      for (let offset = 0; offset < prefixEnd; offset += batchSize) {
        const end = Math.min(offset + batchSize, prefixEnd);
        const batchMean = await decode(offset, end);
        if (!last) for (let i = 0; i < dim; i++) sum[i] += batchMean[i] * (end - offset);
      }
      pooled = last ? await decode(tokens.length - 1, tokens.length) : Float32Array.from(sum, (v) => v / tokens.length);
    } catch (error) {
      if (SlmError.isInstance(error)) throw error;
      throw new BackendError(`llama.cpp failed to embed ${tokens.length} tokens: ${String(error)}`, {
        field: 'tokens',
        cause: error,
      });
    } finally {
      context.removeTokenCellsFromSequence(sequenceId, 0, -1);
    }
    return poolEmbedding([pooled], { ...options, pooling: 'mean' });
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#tail;
    await this.#context.dispose();
  }
}
