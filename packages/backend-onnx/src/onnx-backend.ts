import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  type ModelData,
  type ModelFiles,
  ModelFormatError,
  type ModelInput,
  type ModelSpec,
  NotFoundError,
  parameterCount,
  resolveContextSize,
  type Tokenizer,
  throwIfAborted,
  UnsupportedFeatureError,
  validateLlamaWeights,
  validateModelSpec,
} from '@slmkit/core';
import type { InferenceSession } from 'onnxruntime-common';
import { EmbeddingRows } from './embedding-rows.js';
import { headDimFromHfConfig } from './export/hf-config.js';
import { buildLlamaOnnxModel, INPUTS_EMBEDS } from './export/llama-graph.js';
import { describeGraphIo } from './graph-io.js';
import { findOnnxFile, ONNX_SLOT_FILES, type OnnxDtype, readOnnxFolder } from './onnx-folder.js';
import { OnnxLoadedModel } from './onnx-model.js';
import { encodeOnnxModel } from './proto/onnx-codec.js';
import { joinPath, type OrtRuntime } from './runtime/runtime-seam.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Models below this many parameters default to one thread: per-node overhead dominates and threads only add sync. */
export const SINGLE_THREAD_PARAMETER_LIMIT = 20_000_000;

export interface OnnxBackendOptions {
  runtime: OrtRuntime;
  /** Intra-op threads. Default: 1 for models under 20M parameters, else the runtime's CPU count (cgroup-aware). */
  threads?: number;
  /** ORT graph optimisation level. Default `all`. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Which ONNX file of a folder to run, or which weights to export for in-memory models. Default `auto` (fp32 first). */
  dtype?: OnnxDtype;
  /** `accuracy_level` of MatMulNBits when exporting in-memory models as int8. Default 4 (int8 activations). */
  int8AccuracyLevel?: number;
  /**
   * In-memory exports use ORT's fused operators (GroupQueryAttention or RotaryEmbedding,
   * SimplifiedLayerNormalization). Default true (dtype `portable`: false).
   */
  fused?: boolean;
  /**
   * KV-cache layout: `slots` runs slmkit's KV-slot decoder (`onnx/model_slots*.onnx` in folders slmkit exported;
   * in-memory models are built that way), which never copies the cache; `optimum` runs the Optimum graph that
   * transformers.js runs. Default `auto`: `slots` under onnxruntime-node where the folder has it, else `optimum`.
   */
  kvLayout?: 'auto' | 'optimum' | 'slots';
  /** Block size of the int8 weights when exporting in-memory models. Default 128. */
  int8BlockSize?: number;
  /** Extra onnxruntime session options, merged over the backend's (e.g. `extra: { session: { ... } }`). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Turns a non-ONNX path (llama2.c, GGUF, safetensors) into an ONNX folder; absent in the browser. */
  convertInput?: (files: ModelFiles, options: LoadOptions) => Promise<string>;
}

interface PreparedModel {
  /** Model bytes (in-memory exports) or the file's path / URL, which the runtime reads itself. */
  model: Uint8Array | string;
  file: string;
  spec: ModelSpec;
  tokenizer: Tokenizer;
  headDim: number;
  weightType: string;
}

/** ONNX Runtime backend: runs Optimum-layout decoder graphs (ours or Hugging Face's) with a KV cache. */
export class OnnxBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'onnx';
  readonly capabilities: BackendCapabilities;
  readonly #options: OnnxBackendOptions;
  readonly #models = new Set<LoadedModel>();

  constructor(options: OnnxBackendOptions) {
    this.#options = options;
    this.capabilities = {
      canTrain: false,
      quantizations: ['f32', 'q8_0'],
      maxContext: null,
      devices: options.runtime.devices,
      fullLogits: true,
      fastGeneration: false,
      embeddings: true,
    };
  }

  async load(input: ModelInput, options: LoadOptions = {}): Promise<LoadedModel> {
    const started = performance.now();
    const report = (fraction: number, stage: string) => options.onProgress?.({ fraction, stage });
    throwIfAborted(options.signal, 'ONNX model load');
    report(0, 'preparing model');
    const prepared = await this.#prepare(input, options);
    throwIfAborted(options.signal, 'ONNX model load');
    report(0.5, 'creating onnxruntime session');
    const threads = options.threads ?? this.#options.threads ?? this.#defaultThreads(prepared.spec);
    const sessionOptions: InferenceSession.SessionOptions = {
      graphOptimizationLevel: this.#options.graphOptimizationLevel ?? 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
      ...this.#options.sessionOptions,
    };
    const device = await this.#options.runtime.resolveDevice(options.device);
    let session: InferenceSession;
    try {
      session = await this.#options.runtime.createSession(prepared.model, sessionOptions, device);
    } catch (error) {
      throw new ModelFormatError(`onnxruntime could not load the model: ${(error as Error).message}`, {
        file: prepared.file,
        cause: error,
      });
    }
    let io: ReturnType<typeof describeGraphIo>;
    try {
      io = describeGraphIo(session, this.#options.runtime, prepared.spec, prepared.headDim, prepared.file);
      if (session.inputNames.includes(INPUTS_EMBEDS)) {
        io.embeddings = await EmbeddingRows.open(this.#options.runtime, prepared.file);
        if (io.embeddings.dim !== prepared.spec.dim) {
          io.embeddings.close();
          throw new ModelFormatError(
            `the embedding table has ${io.embeddings.dim} columns; the model's hidden size is ${prepared.spec.dim}`,
            {
              file: prepared.file,
              field: 'inputs_embeds',
            },
          );
        }
      }
    } catch (error) {
      await session.release();
      throw error;
    }
    const contextSize = resolveContextSize(options.contextSize, prepared.spec.contextLength);
    const model: OnnxLoadedModel = new OnnxLoadedModel({
      spec: prepared.spec,
      tokenizer: prepared.tokenizer,
      contextSize,
      io,
      info: {
        backend: this.name,
        device,
        threads,
        weightType: prepared.weightType,
        loadMs: performance.now() - started,
        details: {
          runtime: this.#options.runtime.name,
          runtimeVersion: this.#options.runtime.version,
          file: prepared.file,
          graphOptimizationLevel: sessionOptions.graphOptimizationLevel ?? 'all',
        },
      },
      onDispose: () => this.#models.delete(model),
    });
    this.#models.add(model);
    report(1, 'loaded');
    return model;
  }

  #defaultThreads(spec: ModelSpec): number {
    return parameterCount(spec) < SINGLE_THREAD_PARAMETER_LIMIT ? 1 : this.#options.runtime.defaultThreads();
  }

  async #prepare(input: ModelInput, options: LoadOptions): Promise<PreparedModel> {
    if (isModelData(input)) return this.#prepareInMemory(input);
    const files: ModelFiles = typeof input === 'string' ? { path: input } : input;
    const runtime = this.#options.runtime;
    const dtype = this.#options.dtype ?? 'auto';
    let dir = files.path;
    let tokenizerPath = files.tokenizerPath;
    if (!(await findOnnxFile(runtime, dir, dtype))) {
      if (files.path.endsWith('.onnx')) {
        throw new UnsupportedFeatureError('a bare .onnx file has no config or tokenizer; pass its model folder', {
          file: files.path,
        });
      }
      if (!this.#options.convertInput) {
        throw new UnsupportedFeatureError('not an ONNX model folder, and this platform cannot convert other formats', {
          file: files.path,
        });
      }
      dir = await this.#options.convertInput(files, options);
      tokenizerPath = undefined;
    }
    const folder = await readOnnxFolder(runtime, dir, dtype, tokenizerPath);
    let onnxFile = folder.onnxFile;
    if (folder.dtype !== 'portable' && this.#useSlots()) {
      const slotFile = joinPath(dir, ONNX_SLOT_FILES[folder.dtype]);
      if (await runtime.exists(slotFile)) onnxFile = slotFile;
      else if (this.#options.kvLayout === 'slots') {
        throw new NotFoundError('kvLayout "slots" asks for a KV-slot graph the model folder does not have', {
          file: slotFile,
          field: 'kvLayout',
        });
      }
    }
    return {
      model: onnxFile,
      file: onnxFile,
      spec: folder.spec,
      tokenizer: folder.tokenizer,
      headDim: headDimFromHfConfig(folder.config) ?? folder.spec.dim / folder.spec.nHeads,
      weightType: folder.dtype === 'int8' ? 'int8' : 'f32',
    };
  }

  async #prepareInMemory(model: ModelData): Promise<PreparedModel> {
    validateModelSpec(model.spec);
    validateLlamaWeights(model.spec, model.weights);
    const weights = this.#options.dtype === 'int8' ? 'int8' : 'fp32';
    const fused = this.#options.dtype === 'portable' ? false : (this.#options.fused ?? true);
    const bytes = await encodeOnnxModel(
      buildLlamaOnnxModel(model, {
        weights,
        fused,
        kvLayout: fused && this.#useSlots() ? 'slots' : 'optimum',
        accuracyLevel: this.#options.int8AccuracyLevel ?? 4,
        quantBlockSize: this.#options.int8BlockSize,
      }),
    );
    return {
      model: bytes,
      file: `memory:${model.spec.name}`,
      spec: { ...model.spec, ropeLayout: 'half' },
      tokenizer: model.tokenizer,
      headDim: model.spec.dim / model.spec.nHeads,
      weightType: weights === 'int8' ? 'int8' : 'f32',
    };
  }

  /** Whether to run KV-slot graphs where there are some (see `kvLayout`). */
  #useSlots(): boolean {
    const layout = this.#options.kvLayout ?? 'auto';
    return layout === 'slots' || (layout === 'auto' && this.#options.runtime.name === 'onnxruntime-node');
  }

  async dispose(): Promise<void> {
    for (const model of [...this.#models]) await model.dispose();
    this.#models.clear();
  }
}
