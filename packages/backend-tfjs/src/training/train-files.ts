import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  concatArrays,
  InvalidArgumentError,
  type ModelData,
  modelDataToGguf,
  type Tokenizer,
  throwIfAborted,
  tokenizerToJson,
} from '@slmkit/core';
import { writeGgufFile, writeHfFolder } from '@slmkit/core/node';
import { readDatasetDocuments } from '../data/dataset-files.js';

/**
 * Tokenizes a split file written by `slm data` (txt or jsonl) into one id stream: each document as BOS + ids + EOS
 * (where the tokenizer has them), so windows learn document boundaries.
 */
export async function tokenizeDatasetFile(
  path: string,
  tokenizer: Tokenizer,
  signal?: AbortSignal,
): Promise<Int32Array> {
  const chunks: Int32Array[] = [];
  let docs = 0;
  for await (const doc of readDatasetDocuments(path, signal)) {
    if (++docs % 256 === 0) throwIfAborted(signal, 'tokenizing');
    const ids = tokenizer.encode(doc, { addSpecialTokens: false });
    const { bos, eos } = tokenizer.special;
    const out = new Int32Array(ids.length + (bos === undefined ? 0 : 1) + (eos === undefined ? 0 : 1));
    let o = 0;
    if (bos !== undefined) out[o++] = bos;
    out.set(ids, o);
    o += ids.length;
    if (eos !== undefined) out[o] = eos;
    chunks.push(out);
  }
  return concatArrays(chunks, Int32Array);
}

/** Writes the tokenizer as tokenizer.json + tokenizer_config.json into `dir`. */
export async function writeTokenizerFiles(dir: string, tokenizer: Tokenizer): Promise<void> {
  const files = tokenizerToJson(tokenizer);
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(files.tokenizerJson)}\n`);
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(files.tokenizerConfig, null, 2)}\n`);
}

export interface ExportedModel {
  /** Hugging Face folder: config.json, model.safetensors, tokenizer.json. */
  hfFolder: string;
  /** GGUF file (llama architecture, f32 unless quantised). */
  gguf?: string;
}

/** Exports a trained model through core's writers: an HF safetensors folder and, unless `gguf` is false, a GGUF file. */
export async function exportTrainedModel(
  outDir: string,
  data: ModelData,
  options: { gguf?: boolean; dtype?: 'f32' | 'f16'; signal?: AbortSignal } = {},
): Promise<ExportedModel> {
  if (data.weights.size === 0) throw new InvalidArgumentError('no weights to export', { field: 'weights' });
  const hfFolder = join(outDir, 'model');
  await writeHfFolder(hfFolder, data, { dtype: options.dtype ?? 'f32', writeTokenizer: writeTokenizerFiles });
  if (options.gguf === false) return { hfFolder };
  const gguf = join(outDir, 'model.gguf');
  const { metadata, tensors } = modelDataToGguf(data);
  await writeGgufFile(gguf, { metadata, tensors, signal: options.signal });
  return { hfFolder, gguf };
}
