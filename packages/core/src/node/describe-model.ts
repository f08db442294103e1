import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelFormatError, SlmError } from '../errors/index.js';
import { ggufValueToJs } from '../formats/gguf-reader.js';
import { ggufSpecFromMetadata } from '../formats/gguf-spec.js';
import { type GgufValue, GgufValueType, ggmlTypeName } from '../formats/gguf-types.js';
import { hfConfigToSpec } from '../formats/hf-config.js';
import { llama2cExpectedSize, llama2cHeaderToSpec, readLlama2cHeader } from '../formats/llama2c.js';
import {
  isVersionedLlama2c,
  LLAMA2C_VERSIONED_HEADER_BYTES,
  type Llama2cVersionedHeader,
  llama2cVersionedExpectedSize,
  readLlama2cVersionedHeader,
} from '../formats/llama2c-versioned.js';
import { parseSafetensorsHeader, readSafetensorsHeaderLength } from '../formats/safetensors.js';
import type { ModelSpec } from '../model/model-spec.js';
import { elementCount } from '../model/tensor.js';
import { expectedLlamaShapes } from '../model/weights.js';
import { openGgufFile } from './gguf-file.js';
import { listSafetensorsShards } from './hf-folder.js';
import { type DiskFormat, detectModelFormat } from './model-loader.js';
import { pathExists } from './read-file.js';

export interface TensorRow {
  name: string;
  /** Outermost first. */
  shape: number[];
  /** Encoding as stored: core dtype names (f32, f16, q8_0, ...) or the format's own (BF16, Q6_K). */
  dtype: string;
  bytes: number;
}

/** What `slm inspect` prints: read from headers only, no tensor data is loaded. */
export interface ModelDescription {
  path: string;
  format: DiskFormat;
  architecture: string;
  name: string;
  hyperParameters: Record<string, number | string | boolean>;
  tokenizer: { kind: string; vocabSize: number; bos?: number; eos?: number; chatTemplate: boolean };
  /** Parameters stored (a tied classifier counted once). */
  parameters: number;
  /** Bytes on disk (all files of a folder). */
  fileBytes: number;
  tensors: TensorRow[];
  /** GGUF only: scalar metadata (arrays summarised as `[type x count]`). */
  metadata?: Record<string, string | number | boolean>;
}

function specHyperParameters(spec: ModelSpec): Record<string, number | string | boolean> {
  return {
    vocabSize: spec.vocabSize,
    dim: spec.dim,
    nLayers: spec.nLayers,
    nHeads: spec.nHeads,
    nKvHeads: spec.nKvHeads,
    ffnDim: spec.ffnDim,
    contextLength: spec.contextLength,
    ropeTheta: spec.ropeTheta,
    ropeLayout: spec.ropeLayout,
    normEps: spec.normEps,
    tiedEmbeddings: spec.tiedEmbeddings,
  };
}

const GGUF_TOKENIZER_KINDS: Record<string, string> = {
  llama: 'spm',
  gpt2: 'bpe',
  bert: 'wordpiece',
  t5: 'unigram',
  ugm: 'unigram',
  rwkv: 'rwkv',
  no_vocab: 'none',
};

function metadataSummary(metadata: ReadonlyMap<string, GgufValue>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of metadata) {
    if (value.type === GgufValueType.array)
      out[key] = `[type ${value.itemType} x ${(value.value as unknown[]).length}]`;
    else if (typeof value.value === 'bigint') out[key] = value.value.toString();
    else out[key] = ggufValueToJs(value) as string | number | boolean;
  }
  return out;
}

async function describeGguf(path: string, fileBytes: number): Promise<ModelDescription> {
  const file = await openGgufFile(path);
  try {
    const m = file.metadata;
    const arch = m.get('general.architecture')?.value;
    const architecture = typeof arch === 'string' ? arch : 'unknown';
    let hyperParameters: Record<string, number | string | boolean>;
    let name =
      typeof m.get('general.name')?.value === 'string' ? (m.get('general.name')?.value as string) : basename(path);
    try {
      const spec = ggufSpecFromMetadata(m, file.tensors, path);
      hyperParameters = specHyperParameters(spec);
      name = spec.name;
    } catch (error) {
      if (!SlmError.isInstance(error)) throw error;
      // Not a llama file core maps: show the architecture's own keys as they are
      hyperParameters = {};
      for (const [key, value] of m) {
        if (key.startsWith(`${architecture}.`) && value.type !== GgufValueType.array) {
          hyperParameters[key.slice(architecture.length + 1)] =
            typeof value.value === 'bigint' ? Number(value.value) : (value.value as number | string | boolean);
        }
      }
    }
    const tokens = m.get('tokenizer.ggml.tokens');
    const model = m.get('tokenizer.ggml.model')?.value;
    const id = (key: string) => {
      const v = m.get(key)?.value;
      return typeof v === 'number' ? v : undefined;
    };
    return {
      path,
      format: 'gguf',
      architecture,
      name,
      hyperParameters,
      tokenizer: {
        kind: typeof model === 'string' ? (GGUF_TOKENIZER_KINDS[model] ?? model) : 'none',
        vocabSize: tokens?.type === GgufValueType.array ? (tokens.value as unknown[]).length : 0,
        bos: id('tokenizer.ggml.bos_token_id'),
        eos: id('tokenizer.ggml.eos_token_id'),
        chatTemplate: m.has('tokenizer.chat_template'),
      },
      parameters: file.tensors.reduce((sum, t) => sum + elementCount(t.shape), 0),
      fileBytes,
      tensors: file.tensors.map((t) => ({
        name: t.name,
        shape: t.shape,
        dtype: t.dtype ?? ggmlTypeName(t.ggmlType),
        bytes: t.byteSize,
      })),
      metadata: metadataSummary(m),
    };
  } finally {
    await file.close();
  }
}

async function describeLlama2c(path: string, fileBytes: number): Promise<ModelDescription> {
  const handle = await open(path, 'r');
  const head = new Uint8Array(LLAMA2C_VERSIONED_HEADER_BYTES);
  let headBytes: number;
  try {
    headBytes = (await handle.read(head, 0, head.length, 0)).bytesRead;
  } finally {
    await handle.close();
  }
  const versioned = isVersionedLlama2c(head.subarray(0, headBytes));
  const header = versioned
    ? readLlama2cVersionedHeader(head.subarray(0, headBytes), path)
    : readLlama2cHeader(head.subarray(0, Math.min(28, headBytes)), path);
  const expected = versioned
    ? llama2cVersionedExpectedSize(header as Llama2cVersionedHeader)
    : llama2cExpectedSize(header);
  if (expected > fileBytes) {
    throw new ModelFormatError(`file is truncated: the header describes ${expected} bytes, the file has ${fileBytes}`, {
      file: path,
      field: 'weights',
    });
  }
  const spec = llama2cHeaderToSpec(header, basename(path).replace(/\.bin$/, ''));
  const dtype =
    versioned && (header as Llama2cVersionedHeader).version === 2
      ? `int8/g${(header as Llama2cVersionedHeader).groupSize}`
      : 'f32';
  const tensors = [...expectedLlamaShapes(spec)].map(([name, shape]) => {
    const n = elementCount(shape);
    const g = (header as Llama2cVersionedHeader).groupSize ?? 1;
    return shape.length > 1 && dtype !== 'f32'
      ? { name, shape, dtype, bytes: n + (n / g) * 4 }
      : { name, shape, dtype: 'f32', bytes: n * 4 };
  });
  return {
    path,
    format: 'llama2c',
    architecture: 'llama',
    name: spec.name,
    hyperParameters: {
      ...specHyperParameters(spec),
      llama2cVersion: versioned ? (header as Llama2cVersionedHeader).version : 0,
    },
    // llama2.c tokenizers (tok*.bin) are SentencePiece-style with <unk>, <s>, </s> at 0, 1, 2
    tokenizer: { kind: 'spm', vocabSize: spec.vocabSize, bos: 1, eos: 2, chatTemplate: false },
    parameters: tensors.reduce((sum, t) => sum + elementCount(t.shape), 0),
    fileBytes,
    tensors,
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(full) : (await stat(full)).size;
  }
  return total;
}

async function readJsonIfPresent(path: string): Promise<Record<string, unknown> | undefined> {
  if (!(await pathExists(path))) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function describeHfFolder(dir: string, format: DiskFormat): Promise<ModelDescription> {
  const configPath = join(dir, 'config.json');
  const config = await readJsonIfPresent(configPath);
  const spec = hfConfigToSpec(config, configPath, basename(dir));
  const tensors: TensorRow[] = [];
  if (format === 'safetensors-folder') {
    for (const shard of await listSafetensorsShards(dir)) {
      const size = (await stat(shard)).size;
      const handle = await open(shard, 'r');
      try {
        const prefix = new Uint8Array(8);
        await handle.read(prefix, 0, 8, 0);
        const length = readSafetensorsHeaderLength(prefix, size, shard);
        const headerBytes = new Uint8Array(length);
        await handle.read(headerBytes, 0, length, 8);
        for (const t of parseSafetensorsHeader(headerBytes, size, shard).tensors) {
          tensors.push({ name: t.name, shape: t.shape, dtype: t.dtype, bytes: t.end - t.begin });
        }
      } finally {
        await handle.close();
      }
    }
  }
  const tokenizerJson = await readJsonIfPresent(join(dir, 'tokenizer.json'));
  const tokenizerConfig = await readJsonIfPresent(join(dir, 'tokenizer_config.json'));
  const modelType = (tokenizerJson?.model as { type?: unknown } | undefined)?.type;
  const kinds: Record<string, string> = {
    BPE: 'bpe',
    WordPiece: 'wordpiece',
    Unigram: 'unigram',
    WordLevel: 'wordlevel',
  };
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return {
    path: dir,
    format,
    architecture: spec.architecture,
    name: spec.name,
    hyperParameters: specHyperParameters(spec),
    tokenizer: {
      kind: typeof modelType === 'string' ? (kinds[modelType] ?? modelType) : 'none',
      vocabSize: spec.vocabSize,
      bos: num(config?.bos_token_id),
      eos: num(config?.eos_token_id),
      chatTemplate: typeof tokenizerConfig?.chat_template === 'string',
    },
    parameters: tensors.length > 0 ? tensors.reduce((sum, t) => sum + elementCount(t.shape), 0) : 0,
    fileBytes: await folderBytes(dir),
    tensors,
  };
}

/**
 * Describes a model on disk from its headers (no weights are loaded): format, architecture, hyper-parameters,
 * tokenizer kind and size, tensor table, bytes and parameter count. Errors are typed (NotFoundError,
 * ModelFormatError naming the file and field).
 */
export async function describeModel(path: string): Promise<ModelDescription> {
  const format = await detectModelFormat(path);
  switch (format) {
    case 'gguf':
      return describeGguf(path, (await stat(path)).size);
    case 'llama2c':
      return describeLlama2c(path, (await stat(path)).size);
    default:
      return describeHfFolder(path, format);
  }
}
