import { UnsupportedFeatureError } from '@slmkit/core';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';

/**
 * The one file that describes node-llama-cpp's native boundary as this backend uses it.
 *
 * node-llama-cpp's public sequence API (`evaluate`, `controlledEvaluate`) routes every token through a batching
 * queue, locks and a sampler object per call; for small models that costs more than the model itself. This backend
 * drives the addon context underneath directly (the same calls node-llama-cpp makes: `initBatch`, `addToBatch`,
 * `decodeBatch`, `sampleToken`, `removeTokenCellsFromSequence`) on a context it owns alone, which is the
 * lowest-overhead path the package offers. The shapes below are checked at run time (`bindNativeContext`), so a
 * node-llama-cpp release that changes them fails with a typed error instead of a crash.
 */

/** A sampler of the addon (llama.cpp sampler chain). */
export interface NativeSampler {
  applyConfig(config: {
    temperature?: number;
    minP?: number;
    topK?: number;
    topP?: number;
    seed?: number;
    repeatPenalty?: number;
    repeatPenaltyMaxTokens?: number;
    repeatPenaltyTokens?: Uint32Array;
    repeatPenaltyPresencePenalty?: number;
    repeatPenaltyFrequencyPenalty?: number;
  }): void;
  dispose(): void;
}

/** The addon context calls used here. */
export interface NativeContext {
  initBatch(size: number): void;
  addToBatch(
    sequenceId: number,
    firstTokenPosition: number,
    tokens: Uint32Array,
    logitIndexes: Uint32Array,
  ): Uint32Array;
  decodeBatch(): Promise<void>;
  sampleToken(batchLogitIndex: number, sampler: NativeSampler): Promise<number>;
  sampleToken(
    batchLogitIndex: number,
    sampler: NativeSampler,
    probabilities: boolean,
    confidence: boolean,
    logits: boolean,
  ): Promise<[number, unknown, unknown, number[] | undefined, unknown]>;
  removeTokenCellsFromSequence(sequenceId: number, startPosition: number, endPosition: number): boolean;
  getThreads(): number;
  setThreads(threads: number): void;
}

interface NativeSamplerConstructor {
  new (model: unknown): NativeSampler;
}

/** The addon context of an embeddings context (`_embeddings: true`). */
export interface NativeEmbeddingContext extends NativeContext {
  /**
   * The hidden state after the output norm of the last output token of the last decoded batch (the model's pooling
   * type is NONE), or the pooled vector of sequence 0 when the GGUF sets another pooling type.
   */
  getEmbedding(inputTokensLength: number, maxVectorSize?: number): Float64Array;
}

/** A context with one sequence, bound to its native calls. */
export interface NativeBinding {
  context: NativeContext;
  sequenceId: number;
  createSampler(): NativeSampler;
}

const CONTEXT_METHODS = [
  'initBatch',
  'addToBatch',
  'decodeBatch',
  'sampleToken',
  'removeTokenCellsFromSequence',
  'getThreads',
  'setThreads',
] as const;

function fail(what: string): never {
  throw new UnsupportedFeatureError(
    `this node-llama-cpp build does not expose ${what} as 3.22 does; install node-llama-cpp 3.22.x`,
    { field: 'node-llama-cpp' },
  );
}

/** Binds the native calls of `sequence` (the only sequence of its context). */
export function bindNativeContext(
  llama: Llama,
  model: LlamaModel,
  context: LlamaContext,
  sequence: LlamaContextSequence,
): NativeBinding {
  const raw = (context as unknown as { _ctx?: Record<string, unknown> })._ctx;
  if (!raw) fail('LlamaContext._ctx');
  for (const method of CONTEXT_METHODS) if (typeof raw[method] !== 'function') fail(`AddonContext.${method}`);
  const sequenceId = (sequence as unknown as { _sequenceId?: unknown })._sequenceId;
  if (typeof sequenceId !== 'number') fail('LlamaContextSequence._sequenceId');
  const Sampler = (llama as unknown as { _bindings?: { AddonSampler?: NativeSamplerConstructor } })._bindings
    ?.AddonSampler;
  if (typeof Sampler !== 'function') fail('AddonSampler');
  const nativeModel = (model as unknown as { _model?: unknown })._model;
  if (!nativeModel) fail('LlamaModel._model');
  return {
    context: raw as unknown as NativeContext,
    sequenceId,
    createSampler: () => new Sampler(nativeModel),
  };
}

/** Binds the native calls of an embeddings context's only sequence. */
export function bindEmbeddingContext(
  llama: Llama,
  model: LlamaModel,
  context: LlamaContext,
  sequence: LlamaContextSequence,
): NativeBinding & { context: NativeEmbeddingContext } {
  const binding = bindNativeContext(llama, model, context, sequence);
  const raw = binding.context as unknown as Record<string, unknown>;
  if (typeof raw.getEmbedding !== 'function') fail('AddonContext.getEmbedding');
  return { ...binding, context: binding.context as NativeEmbeddingContext };
}

/** Checks a vector from `getEmbedding` and copies it to float32. */
export function embeddingRow(vector: unknown, dim: number): Float32Array {
  if (!(vector instanceof Float64Array) || vector.length !== dim) {
    const got = vector instanceof Float64Array ? `${vector.length} values` : typeof vector;
    throw new UnsupportedFeatureError(`llama.cpp returned an embedding of ${got} for a hidden size of ${dim}`, {
      field: 'embedding',
    });
  }
  return Float32Array.from(vector);
}

/** Turns the addon's interleaved `[token, logit, token, logit, ...]` list into a dense row. */
export function denseLogits(pairs: readonly number[], vocabSize: number, out: Float32Array): void {
  if (pairs.length !== vocabSize * 2) {
    throw new UnsupportedFeatureError(
      `llama.cpp returned ${pairs.length / 2} logits for a vocabulary of ${vocabSize}`,
      {
        field: 'logits',
      },
    );
  }
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
}
