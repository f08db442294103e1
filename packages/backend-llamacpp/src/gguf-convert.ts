import { stat } from 'node:fs/promises';
import {
  type GgufQuantization,
  ggufToModelData,
  InvalidArgumentError,
  type LoadProgress,
  type ModelData,
  type ModelFiles,
  modelDataToGguf,
  throwIfAborted,
  validateGgufForLlama,
} from '@slmkit/core';
import { detectModelFormat, loadModelData, openGgufFile, writeGgufFile } from '@slmkit/core/node';

export const GGUF_QUANTIZATIONS: readonly GgufQuantization[] = ['f32', 'f16', 'q8_0'];

export interface ConvertToGgufOptions {
  /** Encoding of 2-D weights. Default: keep each tensor's encoding (llama2.c and most safetensors: f32). */
  quantize?: GgufQuantization;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export interface ConvertToGgufResult {
  path: string;
  bytes: number;
  /** The input's format, as detected. */
  from: string;
  spec: ModelData['spec'];
}

/** Reads any model core understands (a GGUF too: re-encoding), validating GGUF input before use. */
async function readInput(files: ModelFiles): Promise<{ data: ModelData; from: string }> {
  const from = await detectModelFormat(files.path);
  if (from !== 'gguf') return { data: await loadModelData(files), from };
  const file = await openGgufFile(files.path);
  try {
    validateGgufForLlama(file);
    return { data: await ggufToModelData(file), from };
  } finally {
    await file.close();
  }
}

/**
 * Converts a llama2.c checkpoint, a safetensors folder or a GGUF file into a llama-architecture GGUF with the
 * tokenizer embedded, optionally re-encoding the weights (f32, f16, q8_0). Writes `<out>.partial` and renames it
 * when complete, so an aborted conversion leaves nothing behind.
 */
export async function convertToGguf(
  input: string | ModelFiles,
  out: string,
  options: ConvertToGgufOptions = {},
): Promise<ConvertToGgufResult> {
  if (options.quantize !== undefined && !GGUF_QUANTIZATIONS.includes(options.quantize)) {
    throw new InvalidArgumentError(
      `quantize must be one of ${GGUF_QUANTIZATIONS.join(', ')}, got "${options.quantize}"`,
      {
        field: 'quantize',
        value: options.quantize,
      },
    );
  }
  const files = typeof input === 'string' ? { path: input } : input;
  const outInfo = await stat(out).catch(() => undefined);
  if (outInfo?.isDirectory()) throw new InvalidArgumentError('output path is a folder', { file: out, field: 'out' });
  throwIfAborted(options.signal, 'Conversion');
  options.onProgress?.({ fraction: 0, stage: `reading ${files.path}` });
  const { data, from } = await readInput(files);
  throwIfAborted(options.signal, 'Conversion');
  options.onProgress?.({
    fraction: 0.1,
    stage: options.quantize ? `encoding weights as ${options.quantize}` : 'preparing tensors',
  });
  const { metadata, tensors } = modelDataToGguf(data, { quantize: options.quantize });
  const { bytes } = await writeGgufFile(out, {
    metadata,
    tensors,
    signal: options.signal,
    onProgress: (p) => options.onProgress?.({ fraction: 0.1 + 0.9 * p.fraction, stage: p.stage }),
  });
  return { path: out, bytes, from, spec: data.spec };
}
