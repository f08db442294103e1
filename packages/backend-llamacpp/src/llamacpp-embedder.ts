import {
  AbortError,
  BackendError,
  checkForwardInput,
  type EmbedOptions,
  poolEmbedding,
  SlmError,
  throwIfAborted,
  UnsupportedFeatureError,
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

/** The GGUF's `<arch>.pooling_type`, or undefined when absent. */
function ggufPoolingType(model: LlamaModel): number | undefined {
  const metadata = model.fileInfo.metadata as unknown as Record<string, unknown>;
  const general = metadata.general as { architecture?: unknown } | undefined;
  const arch = typeof general?.architecture === 'string' ? general.architecture : undefined;
  const section = arch ? (metadata[arch] as { pooling_type?: unknown } | undefined) : undefined;
  return typeof section?.pooling_type === 'number' ? section.pooling_type : undefined;
}

/**
 * Final hidden states (after the output norm) from a llama.cpp embeddings context: a context of its own, created on
 * the first `embed` and disposed with the model.
 *
 * The addon reads one vector per decode (`getEmbedding`: llama.cpp's `llama_get_embeddings_ith(ctx, -1)`, the last
 * token of the batch; an embeddings context outputs every token, but only that row is exposed). So `last` pooling
 * decodes the text in batches and reads once, and `mean` pooling decodes one token per call on the KV cache and
 * reads every row: n small decodes, the cheapest exact path the addon allows.
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
    const pooling = ggufPoolingType(model);
    if (pooling !== undefined && pooling !== 0 && pooling !== -1) {
      throw new UnsupportedFeatureError(
        `the GGUF sets pooling_type ${pooling}; embed reads per-token hidden states and needs pooling_type 0 (none)`,
        { file: settings.file, field: 'pooling_type', value: pooling },
      );
    }
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
    const { context, sequenceId } = this.#native;
    const step = (options.pooling ?? 'mean') === 'mean' ? 1 : this.#settings.batchSize;
    const rows: Float32Array[] = [];
    try {
      for (let offset = 0; offset < tokens.length; offset += step) {
        if (options.signal?.aborted) throw new AbortError('Embedding was aborted', { cause: options.signal.reason });
        const chunk = tokens.slice(offset, offset + step);
        context.initBatch(chunk.length);
        context.addToBatch(sequenceId, offset, Uint32Array.from(chunk), Uint32Array.of(chunk.length - 1));
        await context.decodeBatch();
        if (step === 1 || offset + step >= tokens.length)
          rows.push(embeddingRow(context.getEmbedding(chunk.length), dim));
      }
    } catch (error) {
      if (SlmError.isInstance(error)) throw error;
      throw new BackendError(`llama.cpp failed to embed ${tokens.length} tokens: ${String(error)}`, {
        field: 'tokens',
        cause: error,
      });
    } finally {
      context.removeTokenCellsFromSequence(sequenceId, 0, -1);
    }
    return poolEmbedding(rows, options);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#tail;
    await this.#context.dispose();
  }
}
