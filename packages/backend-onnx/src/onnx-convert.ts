import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, type ModelFiles } from '@slmkit/core';
import { detectModelFormat, loadModelData } from '@slmkit/core/node';
import { DEFAULT_ONNX_VARIANTS, exportOnnxFolder, type OnnxExportOptions, type OnnxVariant } from './onnx-export.js';

export interface ConvertToOnnxOptions extends Omit<OnnxExportOptions, 'variants'> {
  /** `f32`: only the fp32 graphs (Optimum, portable, KV-slot); `int8`: only the int8 ones; default all. */
  quantize?: 'f32' | 'int8';
}

export interface ConvertToOnnxResult {
  /** The model folder written. */
  path: string;
  /** Bytes of all files written. */
  bytes: number;
  /** The input's format. */
  from: string;
  files: string[];
}

/** `slm convert <in> --to onnx`: reads any model core can read and writes an HF-layout ONNX folder. */
export async function convertToOnnx(
  input: string | ModelFiles,
  outDir: string,
  options: ConvertToOnnxOptions = {},
): Promise<ConvertToOnnxResult> {
  const files = typeof input === 'string' ? { path: input } : input;
  const quantize = options.quantize;
  if (quantize !== undefined && quantize !== 'f32' && quantize !== 'int8') {
    throw new InvalidArgumentError(`ONNX export supports --quantize f32 or int8, got "${String(quantize)}"`, {
      field: '--quantize',
      value: quantize,
    });
  }
  const from = await detectModelFormat(files.path);
  options.onProgress?.({ fraction: 0, stage: `reading ${from} model` });
  const model = await loadModelData(files);
  const variants: OnnxVariant[] =
    quantize === 'f32'
      ? ['fp32', 'portable', 'slots']
      : quantize === 'int8'
        ? ['int8', 'slots-int8']
        : [...DEFAULT_ONNX_VARIANTS];
  const result = await exportOnnxFolder(model, outDir, { ...options, variants });
  let bytes = 0;
  for (const file of result.files) bytes += (await stat(join(outDir, file))).size;
  return { path: outDir, bytes, from, files: result.files };
}
