import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import type { ModelData, ModelFiles, ModelInput } from '../model/backend.js';
import { readLlama2cCheckpoint, readLlama2cTokenizer } from '../formats/llama2c.js';
import { pathExists, readModelFile, statOrThrow } from './read-file.js';

/** The formats core can read from disk. */
export type DiskFormat = 'gguf' | 'llama2c' | 'safetensors-folder' | 'onnx-folder';

function toFiles(input: Exclude<ModelInput, ModelData>): ModelFiles {
  return typeof input === 'string' ? { path: input } : input;
}

/** Looks at a path's contents (magic bytes, folder files) to tell its format. */
export async function detectModelFormat(path: string): Promise<DiskFormat> {
  const info = await statOrThrow(path, 'model');
  if (info.isDirectory()) {
    const entries = new Set(await readdir(path));
    if (entries.has('onnx') || [...entries].some((e) => e.endsWith('.onnx'))) return 'onnx-folder';
    if (entries.has('config.json') && [...entries].some((e) => e.endsWith('.safetensors'))) return 'safetensors-folder';
    throw new ModelFormatError('folder holds neither a safetensors checkpoint (config.json + *.safetensors) nor an ONNX model', {
      file: path,
    });
  }
  if (info.size === 0) throw new ModelFormatError('model file is empty', { file: path, offset: 0 });
  const head = (await readModelFileHead(path)).subarray(0, 4);
  if (head.length >= 4 && String.fromCharCode(...head) === 'GGUF') return 'gguf';
  return 'llama2c';
}

async function readModelFileHead(path: string): Promise<Uint8Array> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(16);
    const { bytesRead } = await handle.read(buffer, 0, 16, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function findLlama2cTokenizer(modelPath: string, vocabSize: number): Promise<string> {
  const dir = dirname(modelPath);
  for (const name of [`tok${vocabSize}.bin`, 'tokenizer.bin']) {
    const candidate = join(dir, name);
    if (await pathExists(candidate)) return candidate;
  }
  throw new InvalidArgumentError(
    `llama2.c checkpoints keep their tokenizer in a separate file; pass it with --tokenizer (looked for tok${vocabSize}.bin and tokenizer.bin beside the model)`,
    { file: modelPath, field: 'tokenizer' },
  );
}

/** Reads a llama2.c checkpoint and its tokenizer. */
export async function loadLlama2c(files: ModelFiles): Promise<ModelData> {
  const bytes = await readModelFile(files.path);
  const { spec, weights } = readLlama2cCheckpoint(bytes, files.path);
  const tokenizerPath = files.tokenizerPath ?? (await findLlama2cTokenizer(files.path, spec.vocabSize));
  const tokenizer = readLlama2cTokenizer(await readModelFile(tokenizerPath, 'tokenizer file'), {
    vocabSize: spec.vocabSize,
    file: tokenizerPath,
  });
  return { spec, weights, tokenizer };
}

type FormatLoader = (files: ModelFiles) => Promise<ModelData>;

const loaders: Partial<Record<DiskFormat, FormatLoader>> = {
  llama2c: loadLlama2c,
};

/** Reads any model core understands from disk into memory (spec, weights, tokenizer). */
export async function loadModelData(input: Exclude<ModelInput, ModelData>): Promise<ModelData> {
  const files = toFiles(input);
  const format = await detectModelFormat(files.path);
  const loader = loaders[format];
  if (!loader) {
    throw new UnsupportedFeatureError(`reading ${format} models into memory is not supported yet`, { file: files.path });
  }
  return loader(files);
}
