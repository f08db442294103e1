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
import { EmbeddingRows, embeddingLayoutFile } from './embedding-rows.js';
import { CONV_LINEAR_MIN_ELEMENTS } from './export/conv-linears.js';
import { headDimFromHfConfig } from './export/hf-config.js';
import { buildLlamaOnnxModel, INPUTS_EMBEDS } from './export/llama-graph.js';
import { describeGraphIo } from './graph-io.js';
import { findOnnxFile, ONNX_SLOT_FILES, type OnnxDtype, readOnnxFolder } from './onnx-folder.js';
import { OnnxLoadedModel } from './onnx-model.js';
import { OutputGarbage } from './output-garbage.js';
import { encodeOnnxModel } from './proto/onnx-codec.js';
import { joinPath, type OrtRuntime } from './runtime/runtime-seam.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** See `outputGarbageLimitMB`. */
export const DEFAULT_OUTPUT_GARBAGE_LIMIT_MB = 8;

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
   * transformers.js runs. Default `auto`: `slots` on CPU devices (Node, browser WASM) where the folder has it (in the
   * browser only graphs that take `input_ids`), else `optimum`.
   */
  kvLayout?: 'auto' | 'optimum' | 'slots';
  /** Block size of the int8 weights when exporting in-memory models. Default 128. */
  int8BlockSize?: number;
  /**
   * Where the runtime hands over a fresh buffer per output (onnxruntime-node), ask the JavaScript engine for a minor
   * GC after this many MB of them (see OutputGarbage): keeps dead output buffers from adding tens of MB to a decode
   * loop's peak memory. Default 8; 0 leaves collection to the engine.
   */
  outputGarbageLimitMB?: number;
  /** Extra onnxruntime session options, merged over the backend's (e.g. `extra: { session: { ... } }`). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Turns a non-ONNX path (llama2.c, GGUF, safetensors) into an ONNX folder; absent in the browser. */
  convertInput?: (files: ModelFiles, options: LoadOptions) => Promise<string>;
  /**
   * Gives a graph file a copy tuned for this CPU (Node: cpu-tuning.ts), or says why not. Used for fp32 graphs at
   * optimisation level `all` only; absent in the browser.
   */
  tuneGraph?: (file: string, options: LoadOptions) => Promise<GraphTuning>;
}

/** What `tuneGraph` made of a graph: the tuned file to run (already optimised), or none and why. */
export interface GraphTuning {
  file?: string;
  reason: string;
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

/**
 * Whether a graph has linear layers large enough for CPU tuning (conv-linears.ts): float32 weights, and some matrix
 * of at least CONV_LINEAR_MIN_ELEMENTS. Smaller models skip even the cache lookup.
 */
function mayGainFromCpuTuning({ spec, weightType }: PreparedModel): boolean {
  const largest = Math.max(spec.dim * spec.dim, spec.dim * spec.ffnDim, spec.dim * spec.vocabSize);
  return weightType === 'f32' && largest >= CONV_LINEAR_MIN_ELEMENTS;
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
    const device = await this.#options.runtime.resolveDevice(options.device);
    const prepared = await this.#prepare(input, options, device);
    throwIfAborted(options.signal, 'ONNX model load');
    const threads = options.threads ?? this.#options.threads ?? this.#defaultThreads(prepared.spec);
    const sessionOptions: InferenceSession.SessionOptions = {
      graphOptimizationLevel: this.#options.graphOptimizationLevel ?? 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
      ...this.#options.sessionOptions,
    };
    let source = prepared.model;
    let tuning: GraphTuning | undefined;
    if (
      typeof source === 'string' &&
      sessionOptions.graphOptimizationLevel === 'all' &&
      mayGainFromCpuTuning(prepared)
    ) {
      tuning = await this.#options.tuneGraph?.(source, {
        signal: options.signal,
        onProgress: (p) => report(0.1 + 0.4 * p.fraction, p.stage),
      });
      if (tuning?.file) {
        // Already optimised at level `all` on this CPU; optimising it again would only repeat the work.
        source = tuning.file;
        sessionOptions.graphOptimizationLevel = 'disabled';
      }
    }
    throwIfAborted(options.signal, 'ONNX model load');
    report(0.5, 'creating onnxruntime session');
    let session: InferenceSession;
    try {
      session = await this.#options.runtime.createSession(source, sessionOptions, device).catch((error: unknown) => {
        if (!tuning?.file) throw error;
        // The tuned copy went missing or bad since it was made (cache cleared meanwhile): run the graph itself.
        tuning = { reason: `not tuned: the tuned copy failed to load (${(error as Error).message})` };
        source = prepared.model;
        sessionOptions.graphOptimizationLevel = this.#options.graphOptimizationLevel ?? 'all';
        return this.#options.runtime.createSession(source, sessionOptions, device);
      });
    } catch (error) {
      throw new ModelFormatError(`onnxruntime could not load the model: ${(error as Error).message}`, {
        file: prepared.file,
        cause: error,
      });
    }
    let io: ReturnType<typeof describeGraphIo>;
    try {
      io = describeGraphIo(session, this.#options.runtime, prepared.spec, prepared.headDim, prepared.file);
      const collect = this.#options.runtime.collectYoungGarbage;
      const garbageLimitMB = this.#options.outputGarbageLimitMB ?? DEFAULT_OUTPUT_GARBAGE_LIMIT_MB;
      if (collect && io.ownsOutputs && garbageLimitMB > 0) {
        io.outputGarbage = new OutputGarbage(garbageLimitMB * 1e6, collect);
      }
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
          ...(tuning ? { cpuTuning: tuning.reason, ...(tuning.file ? { cpuTunedFile: tuning.file } : {}) } : {}),
        },
      },
      onDispose: () => this.#models.delete(model),
    });
    this.#models.add(model);
    if (tuning?.file) {
      // The tuned graph maps its weights from disk; one step pages them in now, as prepacking does for other graphs,
      // so the first prompt does not pay for it.
      report(0.9, 'paging in the weights');
      try {
        const sequence = await model.createSequence();
        await sequence.forward([0]);
        await sequence.dispose();
      } catch (error) {
        await model.dispose();
        throw error;
      }
    }
    report(1, 'loaded');
    return model;
  }

  #defaultThreads(spec: ModelSpec): number {
    return parameterCount(spec) < SINGLE_THREAD_PARAMETER_LIMIT ? 1 : this.#options.runtime.defaultThreads();
  }

  async #prepare(input: ModelInput, options: LoadOptions, device: string): Promise<PreparedModel> {
    if (isModelData(input)) return this.#prepareInMemory(input, device);
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
    if (folder.dtype !== 'portable' && this.#useSlots(device)) {
      const slotFile = joinPath(dir, ONNX_SLOT_FILES[folder.dtype]);
      // A KV-slot graph that takes `inputs_embeds` needs the rows read from a file (Node); `auto` passes it by elsewhere.
      const readsRows = !runtime.openFile && (await runtime.exists(embeddingLayoutFile(slotFile)));
      const explicit = this.#options.kvLayout === 'slots';
      if ((await runtime.exists(slotFile)) && (explicit || !readsRows)) onnxFile = slotFile;
      else if (explicit) {
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

  async #prepareInMemory(model: ModelData, device: string): Promise<PreparedModel> {
    validateModelSpec(model.spec);
    validateLlamaWeights(model.spec, model.weights);
    const weights = this.#options.dtype === 'int8' ? 'int8' : 'fp32';
    const fused = this.#options.dtype === 'portable' ? false : (this.#options.fused ?? true);
    const bytes = await encodeOnnxModel(
      buildLlamaOnnxModel(model, {
        weights,
        fused,
        kvLayout: fused && this.#useSlots(device) ? 'slots' : 'optimum',
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

  /**
   * Whether to run KV-slot graphs where there are some (see `kvLayout`): `auto` on CPU devices (onnxruntime-node's
   * `cpu`, onnxruntime-web's `wasm`); WebGPU keeps the Optimum graph, whose GroupQueryAttention runs on the GPU.
   */
  #useSlots(device: string): boolean {
    const layout = this.#options.kvLayout ?? 'auto';
    return layout === 'slots' || (layout === 'auto' && (device === 'cpu' || device === 'wasm'));
  }

  async dispose(): Promise<void> {
    for (const model of [...this.#models]) await model.dispose();
    this.#models.clear();
  }
}
