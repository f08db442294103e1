import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { BackendError } from '@slmkit/core';

/** The TensorFlow.js namespace, as imported from `@tensorflow/tfjs`. */
export type Tf = typeof import('@tensorflow/tfjs');

/** Which TensorFlow.js kernel backend runs the math. `wasm` (XNNPACK, SIMD) is the default; `cpu` is plain JS. */
export type TfjsKernelBackend = 'wasm' | 'cpu';

export const DEFAULT_KERNEL_BACKEND: TfjsKernelBackend = 'wasm';

let tfPromise: Promise<Tf> | undefined;
let wasmReady: Promise<void> | undefined;

/** Imports tfjs on first use (importing this package registers nothing). */
export function importTf(): Promise<Tf> {
  tfPromise ??= import('@tensorflow/tfjs');
  return tfPromise;
}

/** Folder holding tfjs-backend-wasm's .wasm binaries inside node_modules (no network). */
function wasmBinaryFolder(): string | undefined {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'))}/`;
}

async function registerWasm(): Promise<void> {
  wasmReady ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const folder = wasmBinaryFolder();
    if (folder) wasm.setWasmPaths(folder);
  })();
  return wasmReady;
}

/**
 * Makes `name` the active tfjs backend (registering wasm on first use) and returns tfjs. tfjs has one global
 * engine: each model calls this before it computes, so models on different kernel backends can coexist.
 */
export async function activateTf(name: TfjsKernelBackend): Promise<Tf> {
  const tf = await importTf();
  if (tf.getBackend() === name) return tf;
  if (name === 'wasm') await registerWasm();
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new BackendError(`tfjs could not start its "${name}" backend`, {
      field: 'backend',
      value: name,
      cause: error,
    });
  }
  if (!ok) throw new BackendError(`tfjs could not start its "${name}" backend`, { field: 'backend', value: name });
  await tf.ready();
  return tf;
}
