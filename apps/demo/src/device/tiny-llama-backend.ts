import {
  AbortError,
  argmax,
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  BackendError,
  checkForwardInput,
  checkTruncateLength,
  type ForwardOptions,
  type GenerateTokensOptions,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  Logits,
  type ModelData,
  type ModelInput,
  type ModelRuntimeInfo,
  type ModelSpec,
  type NativeSamplingOptions,
  resolveContextSize,
  type Sequence,
  type SequenceCounters,
  type SequenceOptions,
  type Tokenizer,
  throwIfAborted,
  validateModelSpec,
} from '@slmkit/core';
import {
  prepareTinyLlamaWeights,
  TinyLlamaState,
  type TinyLlamaWeights,
  tinyClassify,
  tinyForward,
} from './tiny-llama.js';

/** Reads model files into memory (Node: `loadModelData` from `@slmkit/core/node`; the page passes ModelData). */
export type TinyModelDataLoader = (input: Exclude<ModelInput, ModelData>) => Promise<ModelData>;

const CAPABILITIES: BackendCapabilities = {
  canTrain: false,
  quantizations: ['f32', 'f16', 'q8_0', 'q4_0', 'q4_K'],
  maxContext: null,
  devices: ['cpu', 'wasm'],
  fullLogits: true,
  fastGeneration: true,
  embeddings: false,
};

class TinySequence implements Sequence {
  readonly contextSize: number;
  readonly counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  readonly #w: TinyLlamaWeights;
  #state: TinyLlamaState | undefined;
  #tokens: number[] = [];

  constructor(w: TinyLlamaWeights, contextSize: number) {
    this.#w = w;
    this.contextSize = contextSize;
    this.#state = new TinyLlamaState(w.spec, contextSize);
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  #live(): TinyLlamaState {
    if (!this.#state) throw new BackendError('the sequence was disposed');
    return this.#state;
  }

  async forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    const state = this.#live();
    const spec = this.#w.spec;
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, spec.vocabSize);
    const want = options.logits ?? 'last';
    const vocab = spec.vocabSize;
    const rows = want === 'all' ? tokens.length : want === 'last' ? 1 : 0;
    const out = new Float32Array(rows * vocab);
    const positions: number[] = [];
    const start = this.#tokens.length;
    for (let i = 0; i < tokens.length; i++) {
      if (i > 0 && i % 16 === 0) throwIfAborted(options.signal, 'forward');
      tinyForward(this.#w, state, tokens[i], start + i);
      this.#tokens.push(tokens[i]);
      if (want === 'all' || (want === 'last' && i === tokens.length - 1)) {
        tinyClassify(this.#w, state, out.subarray(positions.length * vocab, (positions.length + 1) * vocab));
        positions.push(start + i);
      }
    }
    this.counters.evaluatedTokens += tokens.length;
    this.counters.forwardCalls++;
    return new Logits(out, vocab, positions);
  }

  supportsNativeSampling(s: NativeSamplingOptions): boolean {
    return s.temperature === 0 && s.repeatPenalty === 1 && s.presencePenalty === 0 && s.frequencyPenalty === 0;
  }

  /** Greedy decoding without per-token allocations (argmax as core's sampler breaks ties: the lowest id). */
  async *generateTokens(tokens: readonly number[], options: GenerateTokensOptions): AsyncGenerator<number> {
    if (!this.supportsNativeSampling(options.sampling)) {
      throw new BackendError('the native loop only decodes greedily; core falls back to forward() otherwise');
    }
    const state = this.#live();
    const logits = (await this.forward(tokens, { logits: 'last', signal: options.signal })).last();
    const stop = new Set(options.stopTokens);
    const row = new Float32Array(this.#w.spec.vocabSize);
    row.set(logits);
    for (let n = 0; n < options.maxTokens; n++) {
      if (options.signal?.aborted) throw new AbortError('Generation was aborted', { cause: options.signal.reason });
      const id = argmax(row);
      yield id;
      if (stop.has(id) || n + 1 >= options.maxTokens || this.#tokens.length >= this.contextSize) return;
      tinyForward(this.#w, state, id, this.#tokens.length);
      this.#tokens.push(id);
      this.counters.evaluatedTokens++;
      this.counters.forwardCalls++;
      tinyClassify(this.#w, state, row);
    }
  }

  async truncate(length: number): Promise<void> {
    checkTruncateLength(length, this.#tokens.length);
    this.#tokens.length = length;
  }

  async reset(): Promise<void> {
    this.#tokens = [];
  }

  async dispose(): Promise<void> {
    this.#state = undefined;
    this.#tokens = [];
  }
}

class TinyModel implements LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  #w: TinyLlamaWeights | undefined;

  constructor(data: ModelData, w: TinyLlamaWeights, contextSize: number, info: ModelRuntimeInfo) {
    this.spec = data.spec;
    this.tokenizer = data.tokenizer;
    this.contextSize = contextSize;
    this.info = info;
    this.#w = w;
  }

  async createSequence(options: SequenceOptions = {}): Promise<Sequence> {
    if (!this.#w) throw new BackendError('the model was disposed');
    return new TinySequence(this.#w, resolveContextSize(options.contextSize, this.contextSize));
  }

  async dispose(): Promise<void> {
    this.#w = undefined;
  }
}

export interface TinyLlamaBackendOptions {
  /** How to read model files; default `loadModelData` from `@slmkit/core/node` (Node only). */
  loadModelData?: TinyModelDataLoader;
}

/**
 * `tinyjs`: the in-page runtime of the demo for tiny models. Plain JavaScript (no WebAssembly, no WebGPU), so it
 * runs in any page or worker; it beats general runtimes on models of a few hundred thousand parameters, where
 * their per-call overhead dominates. Larger models belong on onnxruntime-web or tfjs.
 */
export class TinyLlamaBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'tinyjs';
  readonly capabilities = CAPABILITIES;
  readonly #load?: TinyModelDataLoader;

  constructor(options: TinyLlamaBackendOptions = {}) {
    this.#load = options.loadModelData;
  }

  async load(input: ModelInput, options: LoadOptions = {}): Promise<LoadedModel> {
    const started = performance.now();
    throwIfAborted(options.signal, 'load');
    let data: ModelData;
    if (isModelData(input)) data = input;
    else if (this.#load) data = await this.#load(input);
    else data = await (await import('@slmkit/core/node')).loadModelData(input);
    validateModelSpec(data.spec);
    const contextSize = resolveContextSize(options.contextSize, data.spec.contextLength);
    const w = prepareTinyLlamaWeights(data.spec, data.weights);
    options.onProgress?.({ fraction: 1, stage: 'loaded' });
    return new TinyModel(data, w, contextSize, {
      backend: this.name,
      device: typeof window === 'undefined' && typeof process !== 'undefined' ? 'cpu' : 'wasm',
      threads: 1,
      weightType: 'f32',
      loadMs: performance.now() - started,
    });
  }

  async dispose(): Promise<void> {}
}

export function createTinyLlamaBackend(options?: TinyLlamaBackendOptions): TinyLlamaBackend {
  return new TinyLlamaBackend(options);
}
