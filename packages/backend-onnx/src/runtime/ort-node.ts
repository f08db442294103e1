import { createRequire } from 'node:module';
import { availableCpuCores, pathExists, readModelFile } from '@slmkit/core/node';
import * as ort from 'onnxruntime-node';
import { openRandomAccessFile } from './random-access-file.js';
import type { OrtRuntime } from './runtime-seam.js';

const require = createRequire(import.meta.url);

function ortVersion(): string {
  try {
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

type GcFunction = (options?: { type: 'minor' | 'major' }) => void;
let gcFunction: GcFunction | null | undefined;

/**
 * V8's `gc` (the one --expose-gc gives), obtained once: the global where the process was started with the flag,
 * else from a fresh context after setting the flag (what the `expose-gc` package does). Null where neither works.
 */
function gcOrNull(): GcFunction | null {
  if (gcFunction === undefined) {
    const existing = (globalThis as { gc?: GcFunction }).gc;
    try {
      if (existing) gcFunction = existing;
      else {
        // Required on first use, not imported: node:v8 and node:vm cost a process ~1.2 MB that most never need.
        (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--expose-gc');
        gcFunction = (require('node:vm') as typeof import('node:vm')).runInNewContext('gc') as GcFunction;
      }
    } catch {
      gcFunction = null;
    }
  }
  return gcFunction;
}

/** onnxruntime-node: native CPU execution, files from the local filesystem. */
export const nodeOrtRuntime: OrtRuntime = {
  name: 'onnxruntime-node',
  version: ortVersion(),
  devices: ['cpu'],
  resolveDevice: async () => 'cpu',
  createTensor(type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) {
    return new ort.Tensor(type, data as Float32Array, dims);
  },
  createSession(model, options) {
    return typeof model === 'string'
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(model, options);
  },
  defaultThreads: availableCpuCores,
  collectYoungGarbage: () => gcOrNull()?.({ type: 'minor' }),
  readFile: (path) => readModelFile(path),
  exists: pathExists,
  openFile: async (path: string) => openRandomAccessFile(path),
} as OrtRuntime;
