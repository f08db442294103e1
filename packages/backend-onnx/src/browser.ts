import { OnnxBackend, type OnnxBackendOptions } from './onnx-backend.js';
import { webOrtRuntime } from './runtime/ort-web.js';

export { buildLlamaOnnxModel, type LlamaGraphOptions, type OnnxWeightFormat } from './export/llama-graph.js';
export * from './onnx-backend.js';
export * from './onnx-folder.js';
export * from './onnx-model.js';
export { decodeOnnxModel, encodeOnnxModel, type ModelProto } from './proto/onnx-codec.js';
export { setOrtWasmPaths, webOrtRuntime } from './runtime/ort-web.js';
export type { OrtRuntime } from './runtime/runtime-seam.js';

/** The ONNX backend on onnxruntime-web (WASM). Paths are URLs of HF-layout model folders; ModelData exports in memory. */
export function createOnnxBackend(
  options: Partial<Omit<OnnxBackendOptions, 'runtime' | 'convertInput'>> = {},
): OnnxBackend {
  return new OnnxBackend({ runtime: webOrtRuntime, ...options });
}
