import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  convertTensor,
  type DType,
  type ModelData,
  type ModelInput,
  NotFoundError,
  parameterCount,
  UnsupportedFeatureError,
  Weights,
} from '@slmkit/core';
import { createRandomModel } from '@slmkit/core/testing';
import type { ModelEntry } from '../suite/suite-types.js';
import { presetOptions } from './model-presets.js';

/** Bytes of a file, or of every file under a folder. */
export async function pathBytes(path: string): Promise<number> {
  const info = await stat(path).catch((error: unknown) => {
    throw new NotFoundError('model path does not exist', { file: path, cause: error });
  });
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await pathBytes(join(path, entry));
  return total;
}

/** Re-encodes every 2-D weight matrix as `dtype` (norm vectors stay f32, as llama.cpp keeps them). */
export function convertModelData(data: ModelData, dtype: DType): ModelData {
  if (dtype === 'f32') return data;
  const tensors = [...data.weights].map((t) => (t.shape.length > 1 ? convertTensor(t, dtype) : t));
  return { ...data, weights: new Weights(tensors) };
}

/** The random model an entry describes, generated with its fixed seed. */
export function randomModelData(entry: ModelEntry, seed: number): ModelData {
  const random = entry.random ?? {};
  const base = random.preset ? presetOptions(random.preset) : {};
  const { preset: _preset, ...explicit } = random;
  const data = createRandomModel({ ...base, ...explicit, seed: random.seed ?? seed, name: random.name ?? entry.id });
  return convertModelData(data, entry.dtype ?? 'f32');
}

function weightBytes(data: ModelData): number {
  let total = 0;
  for (const t of data.weights) total += t.data.byteLength;
  return total;
}

export interface PreparedInput {
  input: ModelInput;
  parameters?: number;
  /** Size of the model as the backend reads it: the file/folder, or the in-memory weights for generated models. */
  fileBytes?: number;
}

/** What a backend named `backendName` (column `backendId`) should load for this model entry. */
export async function prepareInput(
  entry: ModelEntry,
  backendId: string,
  backendName: string,
  seed: number,
): Promise<PreparedInput> {
  const override = entry.inputs?.[backendId] ?? entry.inputs?.[backendName];
  if (override) return { input: override, fileBytes: await pathBytes(override) };
  if (entry.random) {
    const data = randomModelData(entry, seed);
    return { input: data, parameters: parameterCount(data.spec), fileBytes: weightBytes(data) };
  }
  if (backendName === 'remote') {
    if (!entry.remoteModel && !entry.path)
      throw new UnsupportedFeatureError(`model ${entry.id} has no remoteModel name for a remote backend`);
    const name = entry.remoteModel ?? (entry.path as string);
    return { input: entry.tokenizer ? { path: name, tokenizerPath: entry.tokenizer } : name };
  }
  const pick =
    (backendName === 'llamacpp' && entry.gguf) ||
    (backendName === 'onnx' && entry.onnx) ||
    entry.path ||
    entry.gguf ||
    entry.onnx;
  if (!pick) throw new NotFoundError(`model ${entry.id} has no input for backend ${backendId}`);
  const input: ModelInput =
    pick === entry.path && entry.tokenizer ? { path: pick, tokenizerPath: entry.tokenizer } : pick;
  return { input, fileBytes: await pathBytes(pick) };
}

type Module = Record<string, unknown>;

/**
 * A GGUF file for `entry` (for the node-llama-cpp peer): the entry's own `gguf`, or a conversion with core's GGUF
 * writer cached under `cacheDir` (keyed by model id, dtype and seed).
 */
export async function ggufFor(
  entry: ModelEntry,
  cacheDir: string,
  seed: number,
  loadData: () => Promise<ModelData>,
): Promise<string> {
  if (entry.gguf) return entry.gguf;
  const file = join(cacheDir, `${entry.id}-${entry.dtype ?? 'f32'}-s${entry.random?.seed ?? seed}.gguf`);
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return file;
  const core = (await import('@slmkit/core')) as Module;
  const node = (await import('@slmkit/core/node')) as Module;
  const toGguf = core.modelDataToGguf as ((d: ModelData, o: Record<string, unknown>) => unknown) | undefined;
  const write = node.writeGgufFile as ((path: string, gguf: unknown) => Promise<unknown>) | undefined;
  if (typeof toGguf !== 'function' || typeof write !== 'function') {
    throw new UnsupportedFeatureError(
      `model ${entry.id} has no gguf file and core's GGUF writer is not available to convert it`,
    );
  }
  await mkdir(cacheDir, { recursive: true });
  const data = await loadData();
  const tmp = `${file}.${process.pid}.tmp`;
  await write(tmp, toGguf(data, {}));
  await rename(tmp, file);
  return file;
}
