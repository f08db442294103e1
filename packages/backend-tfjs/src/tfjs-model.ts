import {
  BackendError,
  type EmbedOptions,
  type LoadedModel,
  type ModelData,
  type ModelRuntimeInfo,
  type ModelSpec,
  poolEmbedding,
  resolveContextSize,
  type SequenceOptions,
  type Tokenizer,
} from '@slmkit/core';
import { activateTf, type Tf, type TfjsKernelBackend } from './tfjs-runtime.js';
import { TfjsSequence } from './tfjs-sequence.js';
import { disposeTfjsWeights, type TfjsWeights } from './tfjs-weights.js';

/** A model loaded into tfjs tensors; its sequences share the weights. */
export class TfjsModel implements LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  readonly batchSize: number;
  readonly kernelBackend: TfjsKernelBackend;
  #weights: TfjsWeights | undefined;
  readonly #sequences = new Set<TfjsSequence>();

  constructor(
    data: ModelData,
    weights: TfjsWeights,
    options: { contextSize: number; batchSize: number; kernelBackend: TfjsKernelBackend; info: ModelRuntimeInfo },
  ) {
    this.spec = data.spec;
    this.tokenizer = data.tokenizer;
    this.#weights = weights;
    this.contextSize = options.contextSize;
    this.batchSize = options.batchSize;
    this.kernelBackend = options.kernelBackend;
    this.info = options.info;
  }

  /** Activates this model's tfjs backend and returns the live weights (for sequences). */
  async acquire(): Promise<{ tf: Tf; weights: TfjsWeights }> {
    const weights = this.#weights;
    if (!weights) throw new BackendError('the model was disposed');
    return { tf: await activateTf(this.kernelBackend), weights };
  }

  release(sequence: TfjsSequence): void {
    this.#sequences.delete(sequence);
  }

  async createSequence(options: SequenceOptions = {}): Promise<TfjsSequence> {
    if (!this.#weights) throw new BackendError('the model was disposed');
    const size = resolveContextSize(options.contextSize, this.contextSize);
    const sequence = new TfjsSequence(this, size);
    this.#sequences.add(sequence);
    return sequence;
  }

  /**
   * Pooled final hidden states after the output norm (the gain the logits path folds into the classifier is applied
   * unfolded), from a temporary sequence: the same chunked, KV-cached forward as generation.
   */
  async embed(tokens: readonly number[], options: EmbedOptions = {}): Promise<Float32Array> {
    if (tokens.length === 0) return poolEmbedding([], options);
    const sequence = await this.createSequence({ contextSize: Math.min(this.contextSize, tokens.length) });
    try {
      const rows = (options.pooling ?? 'mean') === 'last' ? 'last' : 'all';
      const { data, positions } = await sequence.hiddenStates(tokens, rows, options.signal);
      const dim = this.spec.dim;
      return poolEmbedding(
        positions.map((_, i) => data.subarray(i * dim, (i + 1) * dim)),
        options,
      );
    } finally {
      await sequence.dispose();
    }
  }

  async dispose(): Promise<void> {
    const weights = this.#weights;
    if (!weights) return;
    for (const s of [...this.#sequences]) await s.dispose();
    this.#weights = undefined;
    disposeTfjsWeights(weights);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
