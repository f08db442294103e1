import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  BackendError,
  InvalidArgumentError,
  type LoadedModel,
  type LoadOptions,
  type ModelInput,
  resolveContextSize,
  SlmError,
  throwIfAborted,
} from '@slmkit/core';
import { availableCpuCores } from '@slmkit/core/node';
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel, type LlamaModelOptions } from 'node-llama-cpp';
import { readEnvironment } from './config.js';
import { chooseFlashAttention } from './flash-attention.js';
import { resolveGgufInput } from './gguf-input.js';
import { EMBEDDING_METADATA_OVERRIDES } from './llamacpp-embedder.js';
import { LlamaCppModel } from './llamacpp-model.js';
import { chooseThreads } from './threads.js';

/** Tokens per native batch during prefill, unless set. */
export const DEFAULT_BATCH_SIZE = 512;

export type LlamaCppGpu = 'auto' | 'cuda' | 'vulkan' | 'metal' | false;

export interface LlamaCppBackendOptions {
  /**
   * CPU threads. Default: 1 for small models, else one per 32 MiB of weights, capped by the CPU quota (cgroup-aware),
   * the physical cores and the cores other processes leave idle (see `chooseThreads`).
   */
  threads?: number;
  /** GPU build to use. Default `auto` (`$SLMKIT_LLAMACPP_GPU`): a prebuilt CUDA/Vulkan/Metal build if one loads, else CPU. */
  gpu?: LlamaCppGpu;
  /** Context window. Default: the model's context length. */
  contextSize?: number;
  /** Tokens per native batch during prefill. Default 512 (capped by the context size). */
  batchSize?: number;
  /**
   * Flash attention. Default: on for head dimensions of 64 and more, where llama.cpp's CPU kernel is faster, off
   * below (see `FLASH_ATTENTION_MIN_HEAD_DIM`).
   */
  flashAttention?: boolean;
  /** Where non-GGUF inputs are converted to. Default `$SLMKIT_CACHE_DIR/gguf`, else `~/.cache/slmkit/gguf`. */
  cacheDir?: string;
}

function parseGpu(value: string | undefined): LlamaCppGpu | undefined {
  if (value === undefined) return undefined;
  if (value === 'false' || value === 'cpu' || value === 'none') return false;
  if (value === 'auto' || value === 'cuda' || value === 'vulkan' || value === 'metal') return value;
  throw new InvalidArgumentError(`unknown GPU type "${value}" (auto, cuda, vulkan, metal, cpu)`, {
    field: 'SLMKIT_LLAMACPP_GPU',
    value,
  });
}

function checkPositiveInteger(value: number | undefined, field: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new InvalidArgumentError(`must be a positive integer, got ${value}`, { field, value });
  }
}

/** Keeps the last llama.cpp error lines so failures can say what the native side reported. */
class NativeLog {
  #lines: string[] = [];
  push(level: LlamaLogLevel, message: string): void {
    if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal) return;
    this.#lines.push(message.trim());
    if (this.#lines.length > 8) this.#lines.shift();
  }
  take(): string {
    const text = this.#lines.join('; ');
    this.#lines = [];
    return text ? `(llama.cpp: ${text})` : '';
  }
}

/**
 * llama.cpp through node-llama-cpp's prebuilt binaries (never compiled from source). Any GGUF is checked by core's
 * validator before llama.cpp reads it; llama2.c files, safetensors folders and in-memory models are converted to a
 * content-keyed GGUF cache first.
 */
export class LlamaCppBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'llamacpp';
  readonly capabilities: BackendCapabilities = {
    canTrain: false,
    quantizations: ['f32', 'f16', 'q8_0', 'q4_0', 'q4_K'],
    maxContext: null,
    devices: ['cpu', 'cuda', 'vulkan', 'metal'],
    fullLogits: true,
    fastGeneration: true,
    embeddings: true,
  };
  readonly #options: LlamaCppBackendOptions;
  readonly #log = new NativeLog();
  #llama: Promise<Llama> | undefined;
  #models = new Set<LlamaModel>();
  #disposed = false;

  constructor(options: LlamaCppBackendOptions = {}) {
    checkPositiveInteger(options.threads, 'threads');
    checkPositiveInteger(options.contextSize, 'contextSize');
    checkPositiveInteger(options.batchSize, 'batchSize');
    this.#options = { ...options, gpu: options.gpu ?? parseGpu(readEnvironment().gpu) ?? 'auto' };
  }

  /** The node-llama-cpp instance (started on first use): a GPU build when one loads, else the CPU build. */
  llama(): Promise<Llama> {
    this.#llama ??= this.#startLlama();
    return this.#llama;
  }

  async #startLlama(): Promise<Llama> {
    const common = {
      build: 'never' as const,
      logLevel: LlamaLogLevel.error,
      logger: (level: LlamaLogLevel, message: string) => this.#log.push(level, message),
      progressLogs: false,
      maxThreads: availableCpuCores(),
    };
    const gpu = this.#options.gpu ?? 'auto';
    try {
      return await getLlama({ ...common, gpu });
    } catch (error) {
      if (gpu === false) {
        throw new BackendError(`could not load llama.cpp's prebuilt CPU binary: ${String(error)}`, { cause: error });
      }
      try {
        return await getLlama({ ...common, gpu: false });
      } catch (cpuError) {
        throw new BackendError(`could not load llama.cpp's prebuilt binaries: ${String(cpuError)}`, {
          cause: cpuError,
        });
      }
    }
  }

  async load(input: ModelInput, options: LoadOptions = {}): Promise<LoadedModel> {
    if (this.#disposed) throw new BackendError('the backend is disposed', { field: 'backend' });
    const started = performance.now();
    const { signal, onProgress } = options;
    throwIfAborted(signal, 'Loading the model');
    checkPositiveInteger(options.threads, 'threads');
    checkPositiveInteger(options.batchSize, 'batchSize');
    const gguf = await resolveGgufInput(input, { cacheDir: this.#options.cacheDir, signal, onProgress });
    const contextSize = resolveContextSize(options.contextSize ?? this.#options.contextSize, gguf.spec.contextLength);
    const batchSize = Math.min(options.batchSize ?? this.#options.batchSize ?? DEFAULT_BATCH_SIZE, contextSize);
    const flashAttention = chooseFlashAttention(gguf.spec, this.#options.flashAttention);
    throwIfAborted(signal, 'Loading the model');
    const llama = await this.llama();
    const threads = chooseThreads({
      requested: options.threads ?? this.#options.threads,
      weightBytes: gguf.weightBytes,
      mathCores: llama.cpuMathCores,
    });
    const wantGpu = options.device !== 'cpu' && llama.gpu !== false;
    let model: LlamaModel;
    try {
      onProgress?.({ fraction: 0.5, stage: 'loading into llama.cpp' });
      model = await llama.loadModel({
        modelPath: gguf.path,
        gpuLayers: wantGpu ? 'max' : 0,
        // node-llama-cpp's metadata types list no pooling_type for llama; llama.cpp reads it for every architecture.
        metadataOverrides: EMBEDDING_METADATA_OVERRIDES as object as LlamaModelOptions['metadataOverrides'],
        loadSignal: signal,
        onLoadProgress: (p) => onProgress?.({ fraction: 0.5 + p / 2, stage: 'loading into llama.cpp' }),
      });
    } catch (error) {
      throwIfAborted(signal, 'Loading the model');
      if (SlmError.isInstance(error)) throw error;
      throw new BackendError(`llama.cpp could not load the model: ${String(error)} ${this.#log.take()}`.trim(), {
        file: gguf.path,
        cause: error,
      });
    }
    this.#models.add(model);
    model.onDispose.createListener(() => this.#models.delete(model));
    const device = wantGpu && model.gpuLayers > 0 ? String(llama.gpu) : 'cpu';
    return new LlamaCppModel(llama, model, {
      spec: gguf.spec,
      tokenizer: gguf.tokenizer,
      contextSize,
      batchSize,
      threads,
      flashAttention,
      file: gguf.path,
      takeNativeErrors: () => this.#log.take(),
      info: {
        backend: this.name,
        device,
        threads,
        weightType: gguf.weightType,
        loadMs: performance.now() - started,
        details: {
          runtime: `node-llama-cpp ${llama.llamaCppRelease.release}`,
          build: llama.buildType,
          file: gguf.path,
          source: gguf.source,
          converted: gguf.converted,
          batchSize,
          flashAttention,
          gpuLayers: model.gpuLayers,
        },
      },
    });
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const model of [...this.#models]) await model.dispose();
    if (this.#llama) await (await this.#llama.catch(() => undefined))?.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Creates the llama.cpp backend. */
export function createLlamaCppBackend(options: LlamaCppBackendOptions = {}): LlamaCppBackend {
  return new LlamaCppBackend(options);
}
