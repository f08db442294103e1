import { ModelFormatError } from '../errors/index.js';
import type { ModelData } from '../model/backend.js';
import { headDim } from '../model/model-spec.js';
import { convertRopeLayout } from '../model/rope-layout.js';
import { byteSizeOf, convertTensor, type DType, elementCount, type Tensor } from '../model/tensor.js';
import { expectedLlamaShapes, validateLlamaWeights, Weights } from '../model/weights.js';
import { tokenizerFromGguf, tokenizerToGgufMetadata } from '../tokenizer/gguf-vocab.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { ggufF32 as f32, ggufString as str, ggufU32 as u32 } from './gguf-metadata.js';
import { ggufSpecFromMetadata } from './gguf-spec.js';
import type { GgufFile, GgufValue } from './gguf-types.js';
import type { GgufTensorSource } from './gguf-writer.js';

export interface GgufToModelDataOptions {
  /** Use this tokenizer instead of the one in the file's `tokenizer.ggml.*` metadata. */
  tokenizer?: Tokenizer;
}

/**
 * Maps a GGUF `llama` file onto core's ModelData: spec from `llama.*` keys, weights by their (already canonical)
 * GGUF names, tokenizer from `tokenizer.ggml.*`. Reads every tensor (zero-copy for an in-memory file).
 */
export async function ggufToModelData(file: GgufFile, options: GgufToModelDataOptions = {}): Promise<ModelData> {
  const spec = ggufSpecFromMetadata(file.metadata, file.tensors, file.file);
  const tensors: Tensor[] = [];
  for (const info of file.tensors) tensors.push(await file.readTensor(info.name));
  const weights = new Weights(tensors, file.file);
  validateLlamaWeights(spec, weights);
  const tokenizer = options.tokenizer ?? tokenizerFromGguf(file.metadata, file.file);
  if (tokenizer.vocabSize !== spec.vocabSize) {
    throw new ModelFormatError(`tokenizer has ${tokenizer.vocabSize} tokens, the model ${spec.vocabSize}`, {
      file: file.file,
      field: 'tokenizer.ggml.tokens',
    });
  }
  return { spec, weights, tokenizer };
}

/** Encodings `modelDataToGguf` can write the 2-D weights in. */
export type GgufQuantization = 'f32' | 'f16' | 'q8_0';

export interface ModelDataToGgufOptions {
  /** Encoding of 2-D weights; default: keep each tensor's own encoding. 1-D tensors (norms) are always f32. */
  quantize?: GgufQuantization;
  /** `general.name`; default the spec's name. */
  name?: string;
  /** Extra metadata appended after the model's own keys (e.g. `general.description`). */
  extraMetadata?: ReadonlyMap<string, GgufValue>;
  /** Produces the `tokenizer.ggml.*` keys; default `tokenizerToGgufMetadata`. */
  tokenizerMetadata?: (tokenizer: Tokenizer) => Map<string, GgufValue>;
}

/** llama.cpp's `general.file_type` (enum llama_ftype) for the dominant encoding. */
const FILE_TYPES: Record<DType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7, q4_K: 15 };

/** The encoding a tensor is written in: f32 for 1-D, else `quantize` (or its own), f16 where rows are not whole blocks. */
export function ggufTargetDType(
  tensor: Pick<Tensor, 'shape' | 'dtype'>,
  quantize: GgufQuantization | undefined,
): DType {
  if (tensor.shape.length === 1) return 'f32';
  const target = quantize ?? tensor.dtype;
  const rowSize = tensor.shape[tensor.shape.length - 1];
  // Block types need whole blocks per row (ggml quantises rows); fall back to f16 like llama.cpp's converter.
  if ((target === 'q8_0' || target === 'q4_0') && rowSize % 32 !== 0) return 'f16';
  if (target === 'q4_K' && rowSize % 256 !== 0) return 'f16';
  return target;
}

/**
 * Like `modelDataToGguf`, but each tensor is encoded only when its `read()` is called, so `writeGgufFile` holds one
 * encoded tensor at a time (big models).
 */
export function modelDataToGgufSources(
  data: ModelData,
  options: ModelDataToGgufOptions = {},
): { metadata: Map<string, GgufValue>; tensors: GgufTensorSource[] } {
  const { spec, weights } = convertRopeLayout(data.spec, data.weights, 'adjacent');
  validateLlamaWeights(spec, weights);
  const tensors: GgufTensorSource[] = [];
  const bytesByType = new Map<DType, number>();
  for (const name of expectedLlamaShapes(spec).keys()) {
    const tensor = weights.get(name);
    const dtype = ggufTargetDType(tensor, options.quantize);
    tensors.push({ name, shape: tensor.shape, dtype, read: () => convertTensor(tensor, dtype).data });
    if (tensor.shape.length > 1)
      bytesByType.set(dtype, (bytesByType.get(dtype) ?? 0) + byteSizeOf(dtype, elementCount(tensor.shape)));
  }
  const dominant = [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'f32';
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', str('llama')],
    ['general.name', str(options.name ?? spec.name)],
    ['llama.context_length', u32(spec.contextLength)],
    ['llama.embedding_length', u32(spec.dim)],
    ['llama.block_count', u32(spec.nLayers)],
    ['llama.feed_forward_length', u32(spec.ffnDim)],
    ['llama.rope.dimension_count', u32(headDim(spec))],
    ['llama.attention.head_count', u32(spec.nHeads)],
    ['llama.attention.head_count_kv', u32(spec.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(spec.normEps)],
    ['llama.rope.freq_base', f32(spec.ropeTheta)],
    ['llama.vocab_size', u32(spec.vocabSize)],
    ['general.file_type', u32(FILE_TYPES[dominant])],
  ]);
  if (dominant !== 'f32' && dominant !== 'f16') metadata.set('general.quantization_version', u32(2));
  const tokenizerMetadata = options.tokenizerMetadata ?? tokenizerToGgufMetadata;
  for (const [key, value] of tokenizerMetadata(data.tokenizer)) metadata.set(key, value);
  for (const [key, value] of options.extraMetadata ?? []) metadata.set(key, value);
  return { metadata, tensors };
}

/**
 * Turns core ModelData into GGUF metadata and tensors for the `llama` architecture (as llama.cpp loads it):
 * general.* and llama.* keys, q/k rows in the adjacent RoPE layout, norms in f32, no tensor for a tied
 * classifier, tokenizer metadata from `tokenizerToGgufMetadata`. Pass the result to `writeGguf` / `writeGgufFile`
 * (for big models prefer `modelDataToGgufSources`, which encodes lazily).
 */
export function modelDataToGguf(
  data: ModelData,
  options: ModelDataToGgufOptions = {},
): { metadata: Map<string, GgufValue>; tensors: Tensor[] } {
  const { metadata, tensors } = modelDataToGgufSources(data, options);
  return {
    metadata,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, data: t.read() as Uint8Array })),
  };
}
