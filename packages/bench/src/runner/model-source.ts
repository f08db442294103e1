import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  convertTensor,
  type DType,
  type ModelData,
  type ModelInput,
  NotFoundError,
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

function randomOptions(entry: ModelEntry, seed: number) {
  const random = entry.random ?? {};
  const base = random.preset ? presetOptions(random.preset) : {};
  const { preset: _preset, ...explicit } = random;
  return { ...base, ...explicit, seed: random.seed ?? seed, name: random.name ?? entry.id };
}

/** The random model an entry describes, generated with its fixed seed. */
export function randomModelData(entry: ModelEntry, seed: number): ModelData {
  return convertModelData(createRandomModel(randomOptions(entry, seed)), entry.dtype ?? 'f32');
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Where the generated model of `entry` is cached: `<cacheDir>/generated/<id>-<dtype>-<hash>.gguf`, the hash covering
 * the resolved shape, seed and dtype (a changed preset gets a new file, never a stale one).
 */
export function generatedModelPath(entry: ModelEntry, cacheDir: string, seed: number): string {
  const dtype = entry.dtype ?? 'f32';
  const key = createHash('sha256')
    .update(JSON.stringify({ ...randomOptions(entry, seed), dtype }))
    .digest('hex')
    .slice(0, 12);
  return join(cacheDir, 'generated', `${entry.id.replace(/[^\w.-]/g, '_')}-${dtype}-${key}.gguf`);
}

/**
 * The generated model of `entry` as a GGUF file, written once with core's GGUF writer and reused by every later cell
 * (and run, while the cache folder is kept): a 1B-parameter model is generated once per suite, not per cell, and each
 * backend reads the same file (llama.cpp directly, ONNX through its export cache, tfjs and the reference through
 * core's reader).
 */
export async function generatedModelFile(entry: ModelEntry, cacheDir: string, seed: number): Promise<string> {
  const file = generatedModelPath(entry, cacheDir, seed);
  if (await exists(file)) return file;
  await mkdir(join(cacheDir, 'generated'), { recursive: true });
  await writeGguf(`${file}.${process.pid}.tmp`, randomModelData(entry, seed));
  await rename(`${file}.${process.pid}.tmp`, file);
  return file;
}

export interface PreparedInput {
  input: ModelInput;
  parameters?: number;
  /** Size of the model as the backend reads it: the file/folder, or the in-memory weights for generated models. */
  fileBytes?: number;
}

/**
 * What a backend named `backendName` (column `backendId`) should load for this model entry. Generated models are
 * read from their cached GGUF file (see `generatedModelFile`); the parameter count then comes from the loaded spec.
 */
export async function prepareInput(
  entry: ModelEntry,
  backendId: string,
  backendName: string,
  seed: number,
  cacheDir: string,
): Promise<PreparedInput> {
  const override = entry.inputs?.[backendId] ?? entry.inputs?.[backendName];
  if (override) return { input: override, fileBytes: await pathBytes(override) };
  if (entry.random) {
    const file = await generatedModelFile(entry, cacheDir, seed);
    return { input: file, fileBytes: await pathBytes(file) };
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

/** Writes `data` as a GGUF file with core's writer (tensor by tensor, so > 2 GB models are fine). */
async function writeGguf(path: string, data: ModelData): Promise<void> {
  const core = (await import('@slmkit/core')) as Module;
  const node = (await import('@slmkit/core/node')) as Module;
  const toGguf = core.modelDataToGguf as ((d: ModelData, o: Record<string, unknown>) => unknown) | undefined;
  const write = node.writeGgufFile as ((path: string, gguf: unknown) => Promise<unknown>) | undefined;
  if (typeof toGguf !== 'function' || typeof write !== 'function') {
    throw new UnsupportedFeatureError(`core's GGUF writer is not available to write ${data.spec.name}`, { file: path });
  }
  await write(path, toGguf(data, {}));
}

/**
 * A GGUF file for `entry` (for the node-llama-cpp peer): the entry's own `gguf`, the cached file of a generated
 * model, or a conversion with core's GGUF writer cached under `cacheDir` (keyed by model id, dtype and seed).
 */
export async function ggufFor(
  entry: ModelEntry,
  cacheDir: string,
  seed: number,
  loadData: () => Promise<ModelData>,
): Promise<string> {
  if (entry.gguf) return entry.gguf;
  if (entry.random) return generatedModelFile(entry, cacheDir, seed);
  const file = join(cacheDir, `${entry.id}-${entry.dtype ?? 'f32'}-s${seed}.gguf`);
  if (await exists(file)) return file;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeGguf(tmp, await loadData());
  await rename(tmp, file);
  return file;
}
