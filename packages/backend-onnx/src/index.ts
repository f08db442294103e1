import { exportToCache } from './export-cache.js';
import { OnnxBackend, type OnnxBackendOptions } from './onnx-backend.js';
import { nodeOrtRuntime } from './runtime/ort-node.js';

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
  /** Where non-ONNX inputs are exported before loading. Default: see `onnxCacheDir()` (SLMKIT_ONNX_CACHE_DIR). */
  cacheDir?: string;
}

/** The ONNX backend on onnxruntime-node; llama2.c / GGUF / safetensors inputs are exported to a cache folder first. */
export function createOnnxBackend(options: NodeOnnxBackendOptions = {}): OnnxBackend {
  const { cacheDir, ...rest } = options;
  return new OnnxBackend({
    runtime: nodeOrtRuntime,
    convertInput: (files, loadOptions) => exportToCache(files, { ...loadOptions, cacheDir }),
    ...rest,
  });
}
export { type ConvertToOnnxOptions, type ConvertToOnnxResult, convertToOnnx } from './onnx-convert.js';
