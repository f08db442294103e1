import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { llama2cHeaderToSpec, ModelFormatError, type ModelSpec, parameterCount, readLlama2cHeader } from '@slmkit/core';
import type { DeviceModelEntry } from '../device/device-model-entry.js';

export type { DeviceModelEntry, DeviceModelFormat, DeviceModelIndex } from '../device/device-model-entry.js';

/** A model offered to the page only (not to the API): a llama2.c checkpoint + tokenizer, or an HF ONNX folder. */
export interface DeviceModelOptions {
  id: string;
  /** A llama2.c checkpoint file, or a Hugging Face / Optimum ONNX model folder. */
  path: string;
  /** The llama2.c tokenizer (tok*.bin); required for a checkpoint, ignored for a folder. */
  tokenizer?: string;
}

/** A resolved device model: its index entry and the local file behind each servable relative path. */
export interface DeviceModel {
  entry: DeviceModelEntry;
  /** Relative URL path (after `/models/<id>/`) -> absolute local file. Nothing else is served. */
  paths: ReadonlyMap<string, string>;
}

const ONNX_TEXT_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];

/** Whether `path` is a folder (an ONNX model folder) rather than a checkpoint file. */
export async function isFolder(path: string): Promise<boolean> {
  return (await stat(path)).isDirectory();
}

function positiveInt(config: Record<string, unknown>, key: string, file: string): number {
  const value = config[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ModelFormatError(`config.json: ${key} must be a positive integer, got ${String(value)}`, {
      file,
      field: key,
      value,
    });
  }
  return value;
}

/** Parameters of a Llama-family HF config.json (the same count as core's `parameterCount`). */
export function parametersFromHfConfig(config: unknown, file: string): number {
  if (typeof config !== 'object' || config === null) {
    throw new ModelFormatError('config.json is not an object', { file });
  }
  const c = config as Record<string, unknown>;
  const dim = positiveInt(c, 'hidden_size', file);
  const nHeads = positiveInt(c, 'num_attention_heads', file);
  const headSize = typeof c.head_dim === 'number' && c.head_dim > 0 ? c.head_dim : dim / nHeads;
  const nKvHeads = typeof c.num_key_value_heads === 'number' ? c.num_key_value_heads : nHeads;
  const spec: ModelSpec = {
    architecture: 'llama',
    name: 'config',
    vocabSize: positiveInt(c, 'vocab_size', file),
    dim,
    nLayers: positiveInt(c, 'num_hidden_layers', file),
    nHeads: dim / headSize,
    nKvHeads: (nKvHeads * (dim / headSize)) / nHeads,
    ffnDim: positiveInt(c, 'intermediate_size', file),
    ropeTheta: 10_000,
    ropeLayout: 'half',
    normEps: 1e-5,
    contextLength: 1,
    tiedEmbeddings: c.tie_word_embeddings === true,
  };
  return parameterCount(spec);
}

async function readHead(path: string, bytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function url(id: string, relative: string): string {
  return `/models/${encodeURIComponent(id)}/${relative.split('/').map(encodeURIComponent).join('/')}`;
}

async function describeLlama2c(id: string, model: string, tokenizer: string): Promise<DeviceModel> {
  const bytes = (await stat(model)).size;
  let parameters: number | undefined;
  try {
    parameters = parameterCount(llama2cHeaderToSpec(readLlama2cHeader(await readHead(model, 28), model), id));
  } catch {
    parameters = undefined; // a versioned checkpoint: the page still runs it, the picker goes by bytes
  }
  return {
    entry: {
      id,
      format: 'llama2c',
      parameters,
      bytes,
      files: { model: url(id, 'model'), tokenizer: url(id, 'tokenizer') },
    },
    paths: new Map([
      ['model', model],
      ['tokenizer', tokenizer],
    ]),
  };
}

async function describeOnnxFolder(id: string, dir: string): Promise<DeviceModel> {
  const paths = new Map<string, string>();
  for (const name of ONNX_TEXT_FILES) {
    const file = join(dir, name);
    if (
      await stat(file).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      paths.set(name, file);
  }
  const configFile = join(dir, 'config.json');
  if (!paths.has('config.json')) throw new ModelFormatError('the ONNX folder has no config.json', { file: configFile });
  if (!paths.has('tokenizer.json')) {
    throw new ModelFormatError('the ONNX folder has no tokenizer.json', { file: join(dir, 'tokenizer.json') });
  }
  let config: unknown;
  try {
    config = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (error) {
    throw new ModelFormatError(`config.json is not valid JSON: ${(error as Error).message}`, { file: configFile });
  }
  const onnxFiles: Record<string, { bytes: number; externalData?: string[] }> = {};
  for (const sub of ['', 'onnx']) {
    const folder = sub ? join(dir, sub) : dir;
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (!name.endsWith('.onnx')) continue;
      const relative = sub ? `${sub}/${name}` : name;
      const file = join(folder, name);
      let bytes = (await stat(file)).size;
      // External data beside it (`model.onnx_data`, `model.onnx_data_1`, …), fetched by onnxruntime-web by name.
      const externalData = names.filter((n) => n.startsWith(`${name}_data`)).sort();
      for (const data of externalData) {
        const dataFile = join(folder, data);
        bytes += (await stat(dataFile)).size;
        paths.set(sub ? `${sub}/${data}` : data, dataFile);
      }
      paths.set(relative, file);
      onnxFiles[relative] = externalData.length > 0 ? { bytes, externalData } : { bytes };
    }
  }
  const sizes = Object.values(onnxFiles).map((f) => f.bytes);
  if (sizes.length === 0) throw new ModelFormatError('the ONNX folder has no .onnx file', { file: dir });
  const files: Record<string, string> = { folder: url(id, '') };
  for (const relative of paths.keys()) files[relative] = url(id, relative);
  return {
    entry: {
      id,
      format: 'onnx',
      parameters: parametersFromHfConfig(config, configFile),
      bytes: Math.max(...sizes),
      files,
      onnxFiles,
    },
    paths,
  };
}

/**
 * Describes a model the page may run itself: a llama2.c checkpoint (+ tokenizer) or an HF ONNX folder. Only the
 * files listed in the returned `paths` are ever served.
 */
export async function describeDeviceModel(options: DeviceModelOptions): Promise<DeviceModel> {
  if (await isFolder(options.path)) return describeOnnxFolder(options.id, options.path);
  if (!options.tokenizer) {
    throw new ModelFormatError('a llama2.c checkpoint needs its tokenizer file to run in the page', {
      file: options.path,
      field: 'tokenizer',
    });
  }
  return describeLlama2c(options.id, options.path, options.tokenizer);
}
