import { ModelFormatError, type ModelSpec, NotFoundError, SlmError, type Tokenizer } from '@slmkit/core';
import { specFromHfConfig } from './export/hf-config.js';
import { tokenizerFromHfJson } from './export/tokenizer-files.js';
import { joinPath, type OrtRuntime } from './runtime/runtime-seam.js';

/**
 * Which ONNX file of a folder to run: `fp32` (onnx/model.onnx), `int8` (model_quantized / model_int8), `portable`
 * (model_portable.onnx, standard ops only) or `auto` (fp32, else int8).
 */
export type OnnxDtype = 'fp32' | 'int8' | 'portable' | 'auto';

/** ONNX files looked for, in order, per dtype (transformers.js names). */
export const ONNX_CANDIDATES: Record<Exclude<OnnxDtype, 'auto'>, readonly string[]> = {
  fp32: ['onnx/model.onnx', 'model.onnx', 'onnx/decoder_model_merged.onnx', 'decoder_model_merged.onnx'],
  int8: ['onnx/model_quantized.onnx', 'onnx/model_int8.onnx', 'model_quantized.onnx', 'model_int8.onnx'],
  portable: ['onnx/model_portable.onnx'],
};

/** slmkit's KV-slot decoders (see `SLOT_NAMES`), run instead of the Optimum graph of the same weights where present. */
export const ONNX_SLOT_FILES: Record<'fp32' | 'int8', string> = {
  fp32: 'onnx/model_slots.onnx',
  int8: 'onnx/model_slots_quantized.onnx',
};

export interface OnnxFolder {
  dir: string;
  onnxFile: string;
  dtype: 'fp32' | 'int8' | 'portable';
  config: unknown;
  spec: ModelSpec;
  tokenizer: Tokenizer;
}

async function readJson(runtime: OrtRuntime, path: string, what: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await runtime.readFile(path);
  } catch (error) {
    if (SlmError.isInstance(error) && error.code === 'NOT_FOUND') {
      throw new NotFoundError(`the model folder has no ${what}`, { file: path, field: what, cause: error });
    }
    throw error;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ModelFormatError(`${what} is not valid JSON: ${(error as Error).message}`, { file: path, cause: error });
  }
}

/** Locates the ONNX file for `dtype` in a Hugging Face / Optimum model folder. */
export async function findOnnxFile(
  runtime: OrtRuntime,
  dir: string,
  dtype: OnnxDtype,
): Promise<{ file: string; dtype: 'fp32' | 'int8' | 'portable' } | undefined> {
  const order: ('fp32' | 'int8' | 'portable')[] = dtype === 'auto' ? ['fp32', 'int8'] : [dtype];
  for (const kind of order) {
    for (const name of ONNX_CANDIDATES[kind]) {
      const file = joinPath(dir, name);
      if (await runtime.exists(file)) return { file, dtype: kind };
    }
  }
  return undefined;
}

/**
 * Reads an HF-layout ONNX model folder: config.json (-> ModelSpec), tokenizer.json (+ tokenizer_config.json) and
 * the ONNX file for `dtype`. Missing pieces throw NotFoundError naming the file.
 */
export async function readOnnxFolder(
  runtime: OrtRuntime,
  dir: string,
  dtype: OnnxDtype = 'auto',
  tokenizerPath?: string,
): Promise<OnnxFolder> {
  const found = await findOnnxFile(runtime, dir, dtype);
  if (!found) {
    const wanted = dtype === 'auto' ? [...ONNX_CANDIDATES.fp32, ...ONNX_CANDIDATES.int8] : ONNX_CANDIDATES[dtype];
    throw new NotFoundError(`the model folder has no ONNX file for dtype ${dtype} (looked for ${wanted.join(', ')})`, {
      file: dir,
      field: 'onnx',
    });
  }
  const configPath = joinPath(dir, 'config.json');
  const config = await readJson(runtime, configPath, 'config.json');
  const name = dir.replace(/\/+$/, '').split('/').pop() ?? 'onnx-model';
  const spec = specFromHfConfig(config, configPath, name);
  const tokenizerFile = tokenizerPath ?? joinPath(dir, 'tokenizer.json');
  const tokenizerJson = await readJson(runtime, tokenizerFile, 'tokenizer.json');
  const configFile = joinPath(dir, 'tokenizer_config.json');
  const tokenizerConfig = (await runtime.exists(configFile))
    ? await readJson(runtime, configFile, 'tokenizer_config.json')
    : undefined;
  const tokenizer = tokenizerFromHfJson(tokenizerJson, tokenizerFile, tokenizerConfig);
  return { dir, onnxFile: found.file, dtype: found.dtype, config, spec, tokenizer };
}
