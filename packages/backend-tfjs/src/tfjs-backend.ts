import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  InvalidArgumentError,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  type ModelData,
  type ModelInput,
  type ModelRuntimeInfo,
  resolveContextSize,
  throwIfAborted,
  validateModelSpec,
} from '@slmkit/core';
import { TfjsModel } from './tfjs-model.js';
import { activateTf, DEFAULT_KERNEL_BACKEND, type TfjsKernelBackend } from './tfjs-runtime.js';
import { buildTfjsWeights } from './tfjs-weights.js';

/** Tokens evaluated per prefill chunk when `LoadOptions.batchSize` is not given. */
export const DEFAULT_TFJS_BATCH_SIZE = 128;

export interface TfjsBackendOptions {
  /** tfjs kernel backend. Default `wasm` (SIMD where the runtime has it); `cpu` is the plain-JS fallback. */
  backend?: TfjsKernelBackend;
  /** Reads model files (paths); default `loadModelData` from `@slmkit/core/node` (Node only). */
  loadModelData?: (input: Exclude<ModelInput, ModelData>) => Promise<ModelData>;
}

const CAPABILITIES: BackendCapabilities = {
  canTrain: true,
  quantizations: ['f32', 'f16', 'q8_0', 'q4_0', 'q4_K'],
  maxContext: null,
  devices: ['wasm', 'cpu'],
  fullLogits: true,
  fastGeneration: false,
  embeddings: true,
};

/**
 * The TensorFlow.js backend: a Llama-family forward pass over tfjs ops (fused q/k/v/RoPE and gate/up matmuls,
 * norm gains folded into weights, a tensor KV cache). Quantised weights are decoded to f32 at load.
 */
export class TfjsBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'tfjs';
  readonly capabilities = CAPABILITIES;
  readonly kernelBackend: TfjsKernelBackend;
  readonly #loadModelData?: TfjsBackendOptions['loadModelData'];

  constructor(options: TfjsBackendOptions = {}) {
    const kernel = options.backend ?? DEFAULT_KERNEL_BACKEND;
    if (kernel !== 'wasm' && kernel !== 'cpu') {
      throw new InvalidArgumentError(`tfjs backend must be "wasm" or "cpu", got "${String(kernel)}"`, {
        field: 'backend',
        value: kernel,
      });
    }
    this.kernelBackend = kernel;
    this.#loadModelData = options.loadModelData;
  }

  async load(input: ModelInput, options: LoadOptions = {}): Promise<LoadedModel> {
    const started = performance.now();
    throwIfAborted(options.signal, 'load');
    options.onProgress?.({ fraction: 0, stage: 'reading' });
    const data = isModelData(input) ? input : await this.#readFiles(input);
    validateModelSpec(data.spec);
    throwIfAborted(options.signal, 'load');
    const contextSize = resolveContextSize(options.contextSize, data.spec.contextLength);
    const batchSize = options.batchSize ?? DEFAULT_TFJS_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new InvalidArgumentError(`batchSize must be a positive integer, got ${batchSize}`, {
        field: 'batchSize',
        value: batchSize,
      });
    }
    const tf = await activateTf(this.kernelBackend);
    options.onProgress?.({ fraction: 0.5, stage: 'uploading weights' });
    const weights = buildTfjsWeights(tf, data.spec, data.weights, contextSize);
    const weightTypes = new Set([...data.weights].map((t) => t.dtype));
    const info: ModelRuntimeInfo = {
      backend: this.name,
      device: this.kernelBackend,
      threads: 1,
      weightType: [...weightTypes].join('+'),
      loadMs: performance.now() - started,
      details: { tfjsBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs },
    };
    options.onProgress?.({ fraction: 1, stage: 'loaded' });
    return new TfjsModel(data, weights, { contextSize, batchSize, kernelBackend: this.kernelBackend, info });
  }

  async #readFiles(input: Exclude<ModelInput, ModelData>): Promise<ModelData> {
    if (this.#loadModelData) return this.#loadModelData(input);
    const node = await import('@slmkit/core/node');
    return node.loadModelData(input);
  }

  async dispose(): Promise<void> {}
}

/** Creates the tfjs backend. Nothing is registered until a model loads. */
export function createTfjsBackend(options?: TfjsBackendOptions): TfjsBackend {
  return new TfjsBackend(options);
}
