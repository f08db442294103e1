import { BackendError, throwIfAborted } from '../errors/index.js';
import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  type EmbedOptions,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  type ModelData,
  type ModelInput,
  type ModelRuntimeInfo,
  type SequenceOptions,
} from '../model/backend.js';
import type { ModelSpec } from '../model/model-spec.js';
import { validateModelSpec } from '../model/model-spec.js';
import { checkForwardInput, resolveContextSize } from '../model/sequence-checks.js';
import { StepSequence, type TokenStepper } from '../model/step-sequence.js';
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

/** Core's reference forward pass, one token at a time, over its own KV cache. */
class ReferenceStepper implements TokenStepper {
  readonly state: ReferenceState;
  readonly #spec: ModelSpec;
  readonly #weights: ReferenceWeights;

  constructor(spec: ModelSpec, weights: ReferenceWeights, contextSize: number) {
    this.#spec = spec;
    this.#weights = weights;
    this.state = new ReferenceState(spec, contextSize);
  }

  step(token: number, position: number): void {
    forwardToken(this.#spec, this.#weights, this.state, token, position);
  }

  writeLogits(out: Float32Array): void {
    classify(this.#spec, this.#weights, this.state, out);
  }
}

class ReferenceSequence extends StepSequence<ReferenceStepper> {
  constructor(spec: ModelSpec, weights: ReferenceWeights, contextSize: number) {
    super(new ReferenceStepper(spec, weights, contextSize), spec.vocabSize, contextSize);
  }

  /** Final hidden states (after the output norm) of `tokens` evaluated from an empty cache, one row per token. */
  async hiddenStates(tokens: readonly number[], signal?: AbortSignal): Promise<Float32Array[]> {
    const stepper = this.live();
    checkForwardInput(tokens, 0, this.contextSize, this.vocabSize);
    await this.reset();
    const rows: Float32Array[] = [];
    for (let i = 0; i < tokens.length; i++) {
      if (i % 16 === 15) throwIfAborted(signal, 'embed');
      this.advance(tokens[i]);
      rows.push(Float32Array.from(stepper.state.x));
    }
    this.counters.forwardCalls++;
    return rows;
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
