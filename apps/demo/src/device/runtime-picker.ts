import type { DeviceModelEntry } from './device-model-entry.js';

/**
 * Runtimes the page can run a model on:
 * - `tinyjs`: the demo's JavaScript Llama forward, tuned for tiny models (llama2.c checkpoints).
 * - `onnxruntime-web`: @slmkit/backend-onnx on onnxruntime-web (WASM): HF ONNX folders, and llama2.c checkpoints
 *   exported to ONNX in memory.
 * - `reference`: core's readable reference forward (slow; for comparison).
 */
export const DEVICE_RUNTIMES = ['tinyjs', 'onnxruntime-web', 'reference'] as const;
export type DeviceRuntimeName = (typeof DEVICE_RUNTIMES)[number];

/**
 * Up to this many parameters a model runs on tinyjs by default. Below it, a general runtime's fixed per-call cost
 * (onnxruntime-web pays ~1 ms per decode step whatever the model: hundreds of kernel launches through WASM) is more
 * than the whole forward pass in plain JavaScript; above it onnxruntime-web's SIMD kernels win. Measured in headless
 * Chromium with `apps/demo/scripts/bench-device-runtimes.ts` (see the README): tinyjs wins clearly at 0.26M
 * parameters, onnxruntime-web from ~0.6M.
 */
export const TINY_PARAMETER_LIMIT = 500_000;

/** From this many parameters onnxruntime-web runs multi-threaded, where the page is cross-origin isolated. */
export const MULTI_THREAD_PARAMETER_LIMIT = 20_000_000;

/** From this many parameters an ONNX folder's 8-bit file is preferred (a quarter of the download, faster matmuls). */
export const INT8_PARAMETER_LIMIT = 100_000_000;

/** At most this many WASM threads (more only adds synchronisation for the models a page runs). */
export const MAX_WASM_THREADS = 4;

/** Settings the onnxruntime-web runtime is loaded with. */
export interface OrtSettings {
  /** Intra-op threads (more than 1 needs a cross-origin isolated page). */
  threads: number;
  /** Which ONNX file of a folder (`auto` = fp32, else int8); llama2.c checkpoints are exported in memory as fp32. */
  dtype: 'auto' | 'fp32' | 'int8';
}

export interface RuntimeChoice {
  /** Runtimes this model can run on, the default first. */
  runtimes: DeviceRuntimeName[];
  /** Why the default was picked, for the status line. */
  reason: string;
}

/** What the page knows about where it runs. */
export interface PageEnvironment {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** Whether the server offers onnxruntime-web's WASM files. */
  ortAvailable: boolean;
}

/** Parameters of a model: the count the server read, else the f32 weight bytes / 4. */
export function modelParameters(entry: DeviceModelEntry): number {
  return entry.parameters ?? Math.round(entry.bytes / 4);
}

function formatParameters(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;
}

/** The runtimes a model can run on in this page, the default first, and why. */
export function pickRuntimes(entry: DeviceModelEntry, env: PageEnvironment): RuntimeChoice {
  const parameters = formatParameters(modelParameters(entry));
  if (entry.format === 'onnx') {
    if (!env.ortAvailable) return { runtimes: [], reason: 'the server offers no onnxruntime-web files' };
    return { runtimes: ['onnxruntime-web'], reason: `ONNX folder (${parameters} parameters)` };
  }
  const tiny = modelParameters(entry) <= TINY_PARAMETER_LIMIT;
  if (!env.ortAvailable) {
    return { runtimes: ['tinyjs', 'reference'], reason: `${parameters} parameters; no onnxruntime-web on the server` };
  }
  return tiny
    ? {
        runtimes: ['tinyjs', 'onnxruntime-web', 'reference'],
        reason: `${parameters} parameters ≤ ${formatParameters(TINY_PARAMETER_LIMIT)}: a general runtime's per-call overhead would dominate`,
      }
    : {
        runtimes: ['onnxruntime-web', 'tinyjs', 'reference'],
        reason: `${parameters} parameters > ${formatParameters(TINY_PARAMETER_LIMIT)}: onnxruntime-web's SIMD kernels win`,
      };
}

/** onnxruntime-web settings for a model: threads and which ONNX file, by size. */
export function ortSettingsFor(entry: DeviceModelEntry, env: PageEnvironment): OrtSettings {
  const parameters = modelParameters(entry);
  const threads =
    parameters >= MULTI_THREAD_PARAMETER_LIMIT && env.crossOriginIsolated
      ? Math.max(1, Math.min(MAX_WASM_THREADS, env.hardwareConcurrency))
      : 1;
  const hasInt8 = Object.keys(entry.onnxFiles ?? {}).some((f) => /model_(quantized|int8)\.onnx$/.test(f));
  const dtype = entry.format === 'onnx' && parameters >= INT8_PARAMETER_LIMIT && hasInt8 ? 'int8' : 'auto';
  return { threads, dtype };
}
