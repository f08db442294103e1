import {
  AbortError,
  argmax,
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type GenerateTokensOptions,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  type ModelData,
  type ModelInput,
  type ModelRuntimeInfo,
  type ModelSpec,
  type NativeSamplingOptions,
  resolveContextSize,
  type Sequence,
  type SequenceOptions,
  StepSequence,
  type Tokenizer,
  type TokenStepper,
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

/** The tinyjs forward pass, one token at a time, over its own KV cache. */
class TinyStepper implements TokenStepper {
  readonly w: TinyLlamaWeights;
  readonly #state: TinyLlamaState;

  constructor(w: TinyLlamaWeights, contextSize: number) {
    this.w = w;
    this.#state = new TinyLlamaState(w.spec, contextSize);
  }

  step(token: number, position: number): void {
    tinyForward(this.w, this.#state, token, position);
  }

  writeLogits(out: Float32Array): void {
    tinyClassify(this.w, this.#state, out);
  }
}

class TinySequence extends StepSequence<TinyStepper> {
  constructor(w: TinyLlamaWeights, contextSize: number) {
    super(new TinyStepper(w, contextSize), w.spec.vocabSize, contextSize);
  }

  supportsNativeSampling(s: NativeSamplingOptions): boolean {
    return s.temperature === 0 && s.repeatPenalty === 1 && s.presencePenalty === 0 && s.frequencyPenalty === 0;
  }

  /** Greedy decoding without per-token allocations (argmax as core's sampler breaks ties: the lowest id). */
  async *generateTokens(tokens: readonly number[], options: GenerateTokensOptions): AsyncGenerator<number> {
    if (!this.supportsNativeSampling(options.sampling)) {
      throw new BackendError('the native loop only decodes greedily; core falls back to forward() otherwise');
    }
    const stepper = this.live();
    const logits = (await this.forward(tokens, { logits: 'last', signal: options.signal })).last();
    const stop = new Set(options.stopTokens);
    const row = new Float32Array(this.vocabSize);
    row.set(logits);
    for (let n = 0; n < options.maxTokens; n++) {
      if (options.signal?.aborted) throw new AbortError('Generation was aborted', { cause: options.signal.reason });
      const id = argmax(row);
      yield id;
      if (stop.has(id) || n + 1 >= options.maxTokens || this.tokens.length >= this.contextSize) return;
      this.advance(id);
      this.counters.forwardCalls++;
      stepper.writeLogits(row);
    }
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
