import { AbortError, type LoadOptions, ModelFormatError } from '@slmkit/core';
import { tuneGraphForCpu } from './cpu-tuning.js';
import { exportToCache } from './export-cache.js';
import { type GraphTuning, OnnxBackend, type OnnxBackendOptions } from './onnx-backend.js';
import { nodeOrtRuntime } from './runtime/ort-node.js';

export { type CpuTuningManifest, type CpuTuningResult, cpuSignature, tuneGraphForCpu } from './cpu-tuning.js';
export { buildLlamaOnnxModel, type LlamaGraphOptions, type OnnxWeightFormat } from './export/llama-graph.js';
export { exportToCache } from './export-cache.js';
export * from './onnx-backend.js';
export * from './onnx-export.js';
export * from './onnx-folder.js';
export * from './onnx-model.js';
export { decodeOnnxModel, encodeOnnxModel, type ModelProto } from './proto/onnx-codec.js';
export { nodeOrtRuntime } from './runtime/ort-node.js';
export type { OrtRuntime } from './runtime/runtime-seam.js';

export interface NodeOnnxBackendOptions extends Partial<Omit<OnnxBackendOptions, 'runtime'>> {
  /**
   * Where non-ONNX inputs are exported before loading, and CPU-tuned graphs are kept. Default: see `onnxCacheDir()`
   * (SLMKIT_ONNX_CACHE_DIR).
   */
  cacheDir?: string;
  /**
   * Run KV-slot graphs as tuned for this CPU (see `tuneGraphForCpu`): made once per graph and machine in a child
   * process, cached, about 1.3x faster decode for fp32 models of tens of millions of parameters and more. Default true.
   */
  cpuTuning?: boolean;
}

/**
 * The CPU-tuned graph, or why there is none. A cache that cannot be written or an onnxruntime that cannot optimise
 * the graph leaves the model running untuned (the reason is in `info.details.cpuTuning`); aborts and broken model
 * files still throw.
 */
async function tuneOrSayWhy(file: string, options: LoadOptions, cacheDir: string | undefined): Promise<GraphTuning> {
  try {
    const { file: tuned, manifest } = await tuneGraphForCpu(file, {
      ...options,
      cacheDir,
      onnxruntimeVersion: nodeOrtRuntime.version,
    });
    return { file: tuned, reason: manifest.reason };
  } catch (error) {
    if (error instanceof AbortError || error instanceof ModelFormatError) throw error;
    return { reason: `not tuned: ${(error as Error).message}` };
  }
}

/** The ONNX backend on onnxruntime-node; llama2.c / GGUF / safetensors inputs are exported to a cache folder first. */
export function createOnnxBackend(options: NodeOnnxBackendOptions = {}): OnnxBackend {
  const { cacheDir, cpuTuning = true, ...rest } = options;
  return new OnnxBackend({
    runtime: nodeOrtRuntime,
    convertInput: (files, loadOptions) => exportToCache(files, { ...loadOptions, cacheDir }),
    tuneGraph: cpuTuning ? (file, loadOptions) => tuneOrSayWhy(file, loadOptions, cacheDir) : undefined,
    ...rest,
  });
}
export { type ConvertToOnnxOptions, type ConvertToOnnxResult, convertToOnnx } from './onnx-convert.js';
