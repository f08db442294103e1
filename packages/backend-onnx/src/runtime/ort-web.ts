import { NotFoundError } from '@slmkit/core';
import * as ort from 'onnxruntime-web';
import type { OrtRuntime } from './runtime-seam.js';

/** Where onnxruntime-web loads its .wasm/.mjs files from (default: next to the bundle, as ORT decides). */
export function setOrtWasmPaths(paths: string): void {
  ort.env.wasm.wasmPaths = paths;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new NotFoundError(`HTTP ${response.status} fetching the file`, { file: url });
  return new Uint8Array(await response.arrayBuffer());
}

interface WebGpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown> };
}

/** `navigator.gpu` can exist with no adapter behind it (e.g. Chromium without a GPU): ask for one. */
async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = typeof navigator === 'undefined' ? undefined : (navigator as WebGpuNavigator).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** onnxruntime-web: WASM (and WebGPU where the browser has it), files fetched over HTTP. */
export const webOrtRuntime: OrtRuntime = {
  name: 'onnxruntime-web',
  version: ort.env.versions?.web ?? 'unknown',
  devices: ['wasm', 'webgpu'],
  async resolveDevice(requested) {
    // WebGPU only when asked for (`webgpu` or `gpu`) and the browser gives an adapter; WASM otherwise.
    if (requested !== 'webgpu' && requested !== 'gpu') return 'wasm';
    return (await hasWebGpuAdapter()) ? 'webgpu' : 'wasm';
  },
  createTensor(type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) {
    return new ort.Tensor(type, data as Float32Array, dims);
  },
  createSession(model, options, device) {
    // Multi-threaded WASM needs cross-origin isolation (SharedArrayBuffer); otherwise run single-threaded.
    const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
    ort.env.wasm.numThreads = isolated ? (options.intraOpNumThreads ?? 1) : 1;
    const executionProviders = device === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'];
    const sessionOptions = { executionProviders, ...options };
    return typeof model === 'string'
      ? ort.InferenceSession.create(model, sessionOptions)
      : ort.InferenceSession.create(model, sessionOptions);
  },
  defaultThreads: () => {
    const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 1;
    // Multi-threaded WASM needs cross-origin isolation (SharedArrayBuffer).
    return typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated ? Math.max(1, Math.min(4, cores)) : 1;
  },
  readFile: fetchBytes,
  async exists(url) {
    try {
      const response = await fetch(url, { method: 'HEAD' });
      return response.ok;
    } catch {
      return false;
    }
  },
} as OrtRuntime;
