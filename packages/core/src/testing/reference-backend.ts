import { BackendError, throwIfAborted } from '../errors/index.js';
import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  type EmbedOptions,
  type ForwardOptions,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  type ModelData,
  type ModelInput,
  type ModelRuntimeInfo,
  type Sequence,
  type SequenceCounters,
  type SequenceOptions,
} from '../model/backend.js';
import { Logits } from '../model/logits.js';
import type { ModelSpec } from '../model/model-spec.js';
import { validateModelSpec } from '../model/model-spec.js';
import { checkForwardInput, checkTruncateLength, resolveContextSize } from '../model/sequence-checks.js';
import { poolEmbedding } from '../tasks/pooling.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import {
  classify,
  forwardToken,
  prepareReferenceWeights,
  ReferenceState,
  type ReferenceWeights,
} from './reference-model.js';

/** Turns a path (or paths) into a model in memory; `@slmkit/core/node` provides `loadModelData`. */
export type ModelDataLoader = (input: Exclude<ModelInput, ModelData>) => Promise<ModelData>;

export interface ReferenceBackendOptions {
  /** How to read model files; default: `loadModelData` from `@slmkit/core/node` (Node only). */
  loadModelData?: ModelDataLoader;
}

const CAPABILITIES: BackendCapabilities = {
  canTrain: false,
  quantizations: ['f32', 'f16', 'q8_0', 'q4_0', 'q4_K'],
  maxContext: null,
  devices: ['cpu'],
  fullLogits: true,
  fastGeneration: false,
  embeddings: true,
};

class ReferenceSequence implements Sequence {
  readonly contextSize: number;
  readonly counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  readonly #spec: ModelSpec;
  readonly #weights: ReferenceWeights;
  #state: ReferenceState | undefined;
  #tokens: number[] = [];

  constructor(spec: ModelSpec, weights: ReferenceWeights, contextSize: number) {
    this.#spec = spec;
    this.#weights = weights;
    this.contextSize = contextSize;
    this.#state = new ReferenceState(spec, contextSize);
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  #live(): ReferenceState {
    if (!this.#state) throw new BackendError('the sequence was disposed');
    return this.#state;
  }

  async forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    const state = this.#live();
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, this.#spec.vocabSize);
    const want = options.logits ?? 'last';
    const vocab = this.#spec.vocabSize;
    const rows = want === 'all' ? tokens.length : want === 'last' ? 1 : 0;
    const out = new Float32Array(rows * vocab);
    const positions: number[] = [];
    const start = this.#tokens.length;
    for (let i = 0; i < tokens.length; i++) {
      if (i > 0 && i % 16 === 0) throwIfAborted(options.signal, 'forward');
      const pos = start + i;
      forwardToken(this.#spec, this.#weights, state, tokens[i], pos);
      this.#tokens.push(tokens[i]);
      const wantRow = want === 'all' || (want === 'last' && i === tokens.length - 1);
      if (wantRow) {
        classify(
          this.#spec,
          this.#weights,
          state,
          out.subarray(positions.length * vocab, (positions.length + 1) * vocab),
        );
        positions.push(pos);
      }
    }
    this.counters.evaluatedTokens += tokens.length;
    this.counters.forwardCalls++;
    return new Logits(out, vocab, positions);
  }

  /** Final hidden states of `tokens` evaluated from an empty cache, pooled. */
  async hiddenStates(tokens: readonly number[], signal?: AbortSignal): Promise<Float32Array[]> {
    const state = this.#live();
    checkForwardInput(tokens, 0, this.contextSize, this.#spec.vocabSize);
    this.#tokens = [];
    const rows: Float32Array[] = [];
    for (let i = 0; i < tokens.length; i++) {
      if (i % 16 === 15) throwIfAborted(signal, 'embed');
      forwardToken(this.#spec, this.#weights, state, tokens[i], i);
      this.#tokens.push(tokens[i]);
      rows.push(Float32Array.from(state.x));
    }
    this.counters.evaluatedTokens += tokens.length;
    this.counters.forwardCalls++;
    return rows;
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

class ReferenceModel implements LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  #weights: ReferenceWeights | undefined;

  constructor(data: ModelData, weights: ReferenceWeights, contextSize: number, info: ModelRuntimeInfo) {
    this.spec = data.spec;
    this.tokenizer = data.tokenizer;
    this.contextSize = contextSize;
    this.info = info;
    this.#weights = weights;
  }

  #live(): ReferenceWeights {
    if (!this.#weights) throw new BackendError('the model was disposed');
    return this.#weights;
  }

  async createSequence(options: SequenceOptions = {}): Promise<ReferenceSequence> {
    const size = resolveContextSize(options.contextSize, this.contextSize);
    return new ReferenceSequence(this.spec, this.#live(), size);
  }

  async embed(tokens: readonly number[], options: EmbedOptions = {}): Promise<Float32Array> {
    const sequence = await this.createSequence({ contextSize: Math.max(1, tokens.length) });
    try {
      return poolEmbedding(await sequence.hiddenStates(tokens, options.signal), options);
    } finally {
      await sequence.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.#weights = undefined;
  }
}

/**
 * The reference backend: core's plain-TypeScript Llama forward pass. Slow, exact and readable; golden outputs and
 * the conformance suite are checked against it.
 */
export class ReferenceBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'reference';
  readonly capabilities = CAPABILITIES;
  readonly #loadModelData?: ModelDataLoader;

  constructor(options: ReferenceBackendOptions = {}) {
    this.#loadModelData = options.loadModelData;
  }

  async load(input: ModelInput, options: LoadOptions = {}): Promise<LoadedModel> {
    const started = performance.now();
    throwIfAborted(options.signal, 'load');
    const data = isModelData(input) ? input : await this.#readFiles(input);
    validateModelSpec(data.spec);
    const contextSize = resolveContextSize(options.contextSize, data.spec.contextLength);
    const weights = prepareReferenceWeights(data.spec, data.weights);
    const weightTypes = new Set([...data.weights].map((t) => t.dtype));
    const info: ModelRuntimeInfo = {
      backend: this.name,
      device: 'cpu',
      threads: 1,
      weightType: [...weightTypes].join('+'),
      loadMs: performance.now() - started,
    };
    options.onProgress?.({ fraction: 1, stage: 'loaded' });
    return new ReferenceModel(data, weights, contextSize, info);
  }

  async #readFiles(input: Exclude<ModelInput, ModelData>): Promise<ModelData> {
    if (this.#loadModelData) return this.#loadModelData(input);
    const node = await import('../node/model-loader.js');
    return node.loadModelData(input);
  }

  async dispose(): Promise<void> {}
}

export function createReferenceBackend(options?: ReferenceBackendOptions): ReferenceBackend {
  return new ReferenceBackend(options);
}
