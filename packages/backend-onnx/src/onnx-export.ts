import { link, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  LlamaTensorNames,
  type ModelData,
  throwIfAborted,
  validateLlamaWeights,
  validateModelSpec,
} from '@slmkit/core';
import { type EmbeddingTableLayout, embeddingLayoutFile } from './embedding-rows.js';
import { externalizeInitializers, type SharedExternalData } from './export/external-data.js';
import { generationConfig, hfConfigFromSpec } from './export/hf-config.js';
import { buildLlamaOnnxModel, type LlamaGraphOptions } from './export/llama-graph.js';
import { hfTokenizerFiles } from './export/tokenizer-files.js';
import { encodeOnnxModel, type ModelProto } from './proto/onnx-codec.js';

/** ONNX file names inside a model folder, following transformers.js's `dtype` naming. */
export const ONNX_FILE_NAMES = {
  fp32: 'onnx/model.onnx',
  /** transformers.js `dtype: 'q8'`. */
  q8: 'onnx/model_quantized.onnx',
  /** transformers.js `dtype: 'int8'` (a hard link to model_quantized.onnx where the filesystem allows). */
  int8: 'onnx/model_int8.onnx',
  /** fp32 in standard ONNX ops only, for runtimes without ONNX Runtime's contrib operators. */
  portable: 'onnx/model_portable.onnx',
  /** slmkit's KV-slot decoder (fp32), which onnxruntime-node runs without copying the KV cache; shares model.onnx_data. */
  slots: 'onnx/model_slots.onnx',
  /** The KV-slot decoder with int8 weights; shares model_quantized.onnx_data. */
  'slots-int8': 'onnx/model_slots_quantized.onnx',
} as const;

/**
 * - `fp32`: onnx/model.onnx, float32 weights, ORT fused operators unless `fused: false`.
 * - `int8`: onnx/model_quantized.onnx (+ model_int8.onnx), 8-bit MatMulNBits weights.
 * - `portable`: onnx/model_portable.onnx, float32 in standard ONNX ops (opset 17) only.
 * - `slots` / `slots-int8`: onnx/model_slots.onnx / model_slots_quantized.onnx, slmkit's KV-slot decoder (ORT
 *   contrib ops; Optimum I/O is what transformers.js needs, so these are extra). With external data they point into
 *   the fp32 / int8 graph's data file for every weight the two share (written after it).
 */
export type OnnxVariant = 'fp32' | 'int8' | 'portable' | 'slots' | 'slots-int8';

/** Variants written by default. */
export const DEFAULT_ONNX_VARIANTS: readonly OnnxVariant[] = ['fp32', 'int8', 'portable', 'slots', 'slots-int8'];

export interface OnnxExportOptions {
  /** Which graphs to write. Default: DEFAULT_ONNX_VARIANTS. */
  variants?: readonly OnnxVariant[];
  /**
   * Use ONNX Runtime's fused operators (GroupQueryAttention or RotaryEmbedding, SimplifiedLayerNormalization) in
   * the fp32 and int8 graphs. Default true; the `portable` variant never uses them.
   */
  fused?: boolean;
  /**
   * Store weights in `<file>.onnx_data` beside each graph (ONNX external data, 64 KiB-aligned so onnxruntime
   * memory-maps them: peak memory near the file size instead of twice it). Default: when a graph's weights exceed
   * 16 MB.
   */
  externalData?: boolean;
  /** `accuracy_level` for the int8 MatMulNBits nodes. Default 4 (int8 activations: about 2x faster than 0 on x86). */
  int8AccuracyLevel?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { fraction: number; stage: string }) => void;
}

export interface OnnxExportResult {
  dir: string;
  files: string[];
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.partial-${process.pid}`;
  await writeFile(temp, data);
  await rename(temp, path);
}

/** Graphs with more weight bytes than this store them as external data by default. */
export const EXTERNAL_DATA_AUTO_BYTES = 16_000_000;

async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const temp = `${path}.partial-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    for (const chunk of chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The embedding table of an externalised Optimum graph, as `EmbeddingRows` reads it; undefined when it stayed inline. */
function embeddingTableLayout(
  graph: ModelProto,
  written: SharedExternalData,
  format: 'fp32' | 'int8',
  dim: number,
): EmbeddingTableLayout | undefined {
  const name = LlamaTensorNames.tokenEmbedding;
  const dims = (tensor: string) =>
    graph.graph.initializer.find((t) => t.name === tensor)?.dims.map((d) => Number(d)) ?? [];
  if (format === 'fp32') {
    const table = written.tensors.get(name);
    const [rows, width] = dims(name);
    return table && rows && width === dim
      ? { file: written.location, format: 'fp32', rows, dim, offset: table.offset }
      : undefined;
  }
  const q = written.tensors.get(`${name}.q8`);
  const scales = written.tensors.get(`${name}.scales`);
  const [rows, blocks, blockSize] = dims(`${name}.q8`);
  if (!q || !scales || !rows || !blocks || !blockSize) return undefined;
  return {
    file: written.location,
    format: 'q8',
    rows,
    dim,
    offset: q.offset,
    blocks,
    blockSize,
    scalesOffset: scales.offset,
  };
}

/**
 * Writes a Hugging Face-layout ONNX model folder from any core model: config.json, generation_config.json,
 * tokenizer.json, tokenizer_config.json and onnx/model.onnx (+ the int8 variant as model_quantized.onnx and
 * model_int8.onnx). Files are written atomically (temp + rename), so a cancelled export leaves no partial file.
 */
export async function exportOnnxFolder(
  model: ModelData,
  dir: string,
  options: OnnxExportOptions = {},
): Promise<OnnxExportResult> {
  validateModelSpec(model.spec);
  validateLlamaWeights(model.spec, model.weights);
  const variants = options.variants ?? DEFAULT_ONNX_VARIANTS;
  const report = (fraction: number, stage: string) => options.onProgress?.({ fraction, stage });
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const files: string[] = [];
  const tokenizerFiles = hfTokenizerFiles(model.tokenizer, model.spec.contextLength);
  const writeJson = async (name: string, value: unknown) => {
    await writeAtomic(join(dir, name), json(value));
    files.push(name);
  };
  await writeJson('generation_config.json', generationConfig(model.tokenizer, model.spec.contextLength));
  await writeJson('tokenizer.json', tokenizerFiles.tokenizerJson);
  await writeJson('tokenizer_config.json', tokenizerFiles.tokenizerConfig);
  const externalDataFiles: Record<string, number> = {};
  /** External data written per weight format, which the KV-slot graphs point into. */
  const sharedData = new Map<'fp32' | 'int8', SharedExternalData>();
  /** Where each format's embedding table landed in that data. */
  const embeddingTables = new Map<'fp32' | 'int8', EmbeddingTableLayout>();
  for (const [index, variant] of variants.entries()) {
    throwIfAborted(options.signal, 'ONNX export');
    report(index / variants.length, `building ${variant} graph`);
    const format = variant === 'int8' || variant === 'slots-int8' ? 'int8' : 'fp32';
    const slots = variant === 'slots' || variant === 'slots-int8';
    // An untied KV-slot graph reads its embedding rows from the Optimum graph's data file (no mapped table).
    const embeddingTable = slots && !model.spec.tiedEmbeddings ? embeddingTables.get(format) : undefined;
    const graphOptions: LlamaGraphOptions = {
      weights: format,
      fused: slots || (variant !== 'portable' && (options.fused ?? true)),
      kvLayout: slots ? 'slots' : 'optimum',
      embeddingsInput: embeddingTable !== undefined,
      accuracyLevel: options.int8AccuracyLevel ?? 4,
    };
    let graph = buildLlamaOnnxModel(model, graphOptions);
    const name = variant === 'int8' ? ONNX_FILE_NAMES.q8 : ONNX_FILE_NAMES[variant];
    const weightBytes = graph.graph.initializer.reduce((sum, t) => sum + (t.rawData?.byteLength ?? 0), 0);
    if (options.externalData ?? weightBytes > EXTERNAL_DATA_AUTO_BYTES) {
      const dataName = `${name}_data`;
      const external = externalizeInitializers(graph, basename(dataName), slots ? sharedData.get(format) : undefined);
      graph = external.model;
      if (external.chunks.length > 0) {
        await writeChunks(join(dir, dataName), external.chunks);
        files.push(dataName);
      }
      // transformers.js never opens the KV-slot graphs, so config.json lists only the others' data.
      if (!slots) {
        externalDataFiles[basename(name)] = 1;
        if (variant !== 'portable') {
          sharedData.set(format, external.written);
          const table = embeddingTableLayout(graph, external.written, format, model.spec.dim);
          if (table) embeddingTables.set(format, table);
        }
      }
    }
    if (embeddingTable) {
      const sidecar = embeddingLayoutFile(name);
      await writeAtomic(join(dir, sidecar), json(embeddingTable));
      files.push(sidecar);
    }
    const bytes = await encodeOnnxModel(graph);
    throwIfAborted(options.signal, 'ONNX export');
    report((index + 0.5) / variants.length, `writing ${variant} graph`);
    await writeAtomic(join(dir, name), bytes);
    files.push(name);
    if (variant === 'int8') {
      const alias = join(dir, ONNX_FILE_NAMES.int8);
      await rm(alias, { force: true });
      await link(join(dir, name), alias).catch(() => writeAtomic(alias, bytes));
      files.push(ONNX_FILE_NAMES.int8);
    }
  }
  if (externalDataFiles['model_quantized.onnx']) externalDataFiles['model_int8.onnx'] = 1;
  const config: Record<string, unknown> = { ...hfConfigFromSpec(model.spec, model.tokenizer) };
  // transformers.js reads external data only where config.json lists it (one chunk per file).
  if (Object.keys(externalDataFiles).length > 0) {
    config['transformers.js_config'] = { use_external_data_format: externalDataFiles };
  }
  await writeJson('config.json', config);
  report(1, 'done');
  return { dir, files };
}
