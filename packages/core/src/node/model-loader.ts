import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { ggufToModelData } from '../formats/gguf-llama.js';
import { readGguf } from '../formats/gguf-reader.js';
import { readAnyLlama2cCheckpoint } from '../formats/llama2c-versioned.js';
import type { ModelData, ModelFiles, ModelInput } from '../model/backend.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { loadHfFolder } from './hf-folder.js';
import { loadTokenizerFile } from './load-tokenizer-file.js';
import { type ResolveModelSourceOptions, resolveModelFiles } from './model-source.js';
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
    throw new ModelFormatError(
      'folder holds neither a safetensors checkpoint (config.json + *.safetensors) nor an ONNX model',
      {
        file: path,
      },
    );
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
  const { spec, weights } = readAnyLlama2cCheckpoint(bytes, files.path);
  const tokenizerPath = files.tokenizerPath ?? (await findLlama2cTokenizer(files.path, spec.vocabSize));
  const tokenizer = await loadTokenizerFile(tokenizerPath, { vocabSize: spec.vocabSize });
  return { spec, weights, tokenizer };
}

/** Reads a GGUF `llama` file (whole, zero-copy) with the tokenizer in its metadata, or `tokenizerPath`'s. */
export async function loadGgufModel(files: ModelFiles): Promise<ModelData> {
  const file = readGguf(await readModelFile(files.path), files.path);
  const tokenizer = files.tokenizerPath ? await loadTokenizerFromPath(files.tokenizerPath, undefined) : undefined;
  return ggufToModelData(file, { tokenizer });
}

/** Reads a Hugging Face folder (config.json + safetensors) with the tokenizer files in it, or `tokenizerPath`'s. */
export async function loadSafetensorsFolder(files: ModelFiles): Promise<ModelData> {
  return loadHfFolder(files.path, { loadTokenizer: (dir) => loadTokenizerFromPath(files.tokenizerPath ?? dir) });
}

type FormatLoader = (files: ModelFiles) => Promise<ModelData>;

const loaders: Partial<Record<DiskFormat, FormatLoader>> = {
  llama2c: loadLlama2c,
  gguf: loadGgufModel,
  'safetensors-folder': loadSafetensorsFolder,
};

/**
 * Reads any model core understands into memory (spec, weights, tokenizer): a local file or folder, or a remote
 * source (`hf:<owner>/<repo>[/<file>]`, `https:` URL) downloaded into the cache first (see `resolveModelSource`).
 */
export async function loadModelData(
  input: Exclude<ModelInput, ModelData>,
  options: ResolveModelSourceOptions = {},
): Promise<ModelData> {
  const files = await resolveModelFiles(toFiles(input), options);
  const format = await detectModelFormat(files.path);
  const loader = loaders[format];
  if (!loader) {
    throw new UnsupportedFeatureError(`reading ${format} models into memory is not supported yet`, {
      file: files.path,
    });
  }
  return loader(files);
}

/**
 * Reads a tokenizer on its own: a tokenizer.json (+ tokenizer_config.json), SentencePiece .model, llama2.c tok*.bin,
 * GGUF, or a folder holding one of them (see `loadTokenizerFile`).
 */
export async function loadTokenizerFromPath(path: string, vocabSize?: number): Promise<Tokenizer> {
  return loadTokenizerFile(path, { vocabSize });
}
