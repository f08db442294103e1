import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { Logits } from './logits.js';
import type { ModelSpec } from './model-spec.js';
import type { DType } from './tensor.js';
import type { Weights } from './weights.js';

/** Version of the backend contract below; bumped on breaking changes. */
export const BACKEND_SPECIFICATION_VERSION = 1;

/** What a backend can do, so callers can choose without trying. */
export interface BackendCapabilities {
  /** The backend can train / fine-tune (tfjs). */
  canTrain: boolean;
  /** Weight encodings it can run. */
  quantizations: readonly DType[];
  /** Largest context it supports, or null when only the model limits it. */
  maxContext: number | null;
  /** Devices it can run on, e.g. `cpu`, `cuda`, `vulkan`, `metal`, `wasm`, `webgpu`. */
  devices: readonly string[];
  /** `forward` can return logits for every position (needed for perplexity and scoring). */
  fullLogits: boolean;
  /** Sequences offer `generateTokens`, a native generation loop. */
  fastGeneration: boolean;
  /** `LoadedModel.embed` is available (hidden states / pooled embeddings). */
  embeddings: boolean;
}

/** A model already in memory, in core's canonical form. */
export interface ModelData {
  spec: ModelSpec;
  weights: Weights;
  tokenizer: Tokenizer;
}

/** A model on disk: a file (GGUF, llama2.c) or a folder (Hugging Face layout), with a separate tokenizer if needed. */
export interface ModelFiles {
  path: string;
  tokenizerPath?: string;
}

/** What `Backend.load` accepts: a path, paths, or a model in memory. */
export type ModelInput = string | ModelFiles | ModelData;

export function isModelData(input: ModelInput): input is ModelData {
  return typeof input === 'object' && 'spec' in input && 'weights' in input;
}

export interface LoadProgress {
  /** 0..1 */
  fraction: number;
  stage: string;
}

export interface LoadOptions {
  /** Context window to allocate. Default: the model's context length, capped by the backend. */
  contextSize?: number;
  /** CPU threads. Default: chosen by the backend from the CPU quota and the model size. */
  threads?: number;
  /** Tokens evaluated per batch during prefill. */
  batchSize?: number;
  /** Device preference, e.g. `cpu`, `gpu`, `auto`. Default: `auto`. */
  device?: string;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

/** What actually ran: reported in timings, benchmarks and `slm generate --json`. */
export interface ModelRuntimeInfo {
  backend: string;
  device: string;
  threads: number;
  /** Encoding of the weights as run (f32, f16, q8_0, ...). */
  weightType: string;
  /** Milliseconds spent in `load`. */
  loadMs: number;
  /** Extra facts (runtime version, file used, execution provider). */
  details?: Readonly<Record<string, string | number | boolean>>;
}

export interface ForwardOptions {
  /**
   * Which rows of logits to return: `last` (default), `all` (one row per input token), or `none`.
   */
  logits?: 'last' | 'all' | 'none';
  signal?: AbortSignal;
}

/** Counters a sequence keeps, for tests and metrics (e.g. that a chat turn evaluates only new tokens). */
export interface SequenceCounters {
  /** Tokens evaluated by the model since the sequence was created. */
  evaluatedTokens: number;
  /** Calls of `forward` (or native batches). */
  forwardCalls: number;
}

/** Sampling settings a native generation loop is asked to honour. */
export interface NativeSamplingOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  repeatLastN: number;
  presencePenalty: number;
  frequencyPenalty: number;
  seed: number;
}

export interface GenerateTokensOptions {
  maxTokens: number;
  sampling: NativeSamplingOptions;
  /** Ids that end generation; the stop id is yielded, and is not evaluated. */
  stopTokens: readonly number[];
  signal?: AbortSignal;
}

/**
 * A KV-cache slot: the tokens evaluated so far and their keys/values. `forward` appends tokens and returns logits;
 * `truncate` drops cached tokens from the end so a shared prefix can be reused.
 */
export interface Sequence {
  /** Tokens currently in the cache, in order. */
  readonly tokens: readonly number[];
  readonly contextSize: number;
  readonly counters: Readonly<SequenceCounters>;
  /**
   * Evaluates `tokens` after the cached ones. Throws ContextOverflowError when they do not fit and
   * InvalidArgumentError for ids outside the vocabulary; the cache is unchanged after an error.
   */
  forward(tokens: readonly number[], options?: ForwardOptions): Promise<Logits>;
  /** Keeps the first `length` cached tokens. */
  truncate(length: number): Promise<void>;
  /** Empties the cache. */
  reset(): Promise<void>;
  /**
   * Optional fast path: evaluates `tokens` and generates with the runtime's own sampler, yielding each new id.
   * Greedy output must equal core's `generate` on `forward`. After it ends, the cache holds the input and every
   * yielded id except the last one.
   */
  generateTokens?(tokens: readonly number[], options: GenerateTokensOptions): AsyncIterable<number>;
  /** Whether `generateTokens` honours these settings exactly (core falls back to `forward` otherwise). */
  supportsNativeSampling?(sampling: NativeSamplingOptions): boolean;
  dispose(): Promise<void>;
}

export interface SequenceOptions {
  /** Context size of this sequence; default the model's loaded context size. */
  contextSize?: number;
}

export interface EmbedOptions {
  pooling?: 'mean' | 'last';
  normalize?: boolean;
  signal?: AbortSignal;
}

/** A model loaded into a runtime. */
export interface LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  /** Context size allocated at load. */
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  createSequence(options?: SequenceOptions): Promise<Sequence>;
  /** Pooled final hidden states, one vector per text; absent where the runtime cannot expose them. */
  embed?(tokens: readonly number[], options?: EmbedOptions): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** A runtime (llama.cpp, ONNX Runtime, TensorFlow.js, a remote server, the reference backend). */
export interface Backend {
  readonly specificationVersion: typeof BACKEND_SPECIFICATION_VERSION;
  /** Short name used by the CLI and reports: `reference`, `llamacpp`, `onnx`, `tfjs`, `remote`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  load(input: ModelInput, options?: LoadOptions): Promise<LoadedModel>;
  dispose(): Promise<void>;
}
