import { ModelFormatError } from '../errors/index.js';
import type { ModelSpec } from '../model/model-spec.js';
import { DEFAULT_NORM_EPS, DEFAULT_ROPE_THETA } from '../model/model-spec.js';
import { createTensor, type Tensor } from '../model/tensor.js';
import { LlamaTensorNames, Weights } from '../model/weights.js';
import { SpmTokenizer } from '../tokenizer/spm-tokenizer.js';
import { parseByteToken, TokenType } from '../tokenizer/token-type.js';
import { ByteReader } from './byte-reader.js';

/** The seven int32 of a llama2.c (legacy, version 0) checkpoint header. */
export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** A negative vocab_size in the file means the classifier is stored after the RoPE tables. */
  sharedClassifier: boolean;
}

const HEADER_BYTES = 28;
const HEADER_LIMITS: Record<keyof Omit<Llama2cHeader, 'sharedClassifier'>, number> = {
  dim: 65_536,
  hiddenDim: 1_048_576,
  nLayers: 512,
  nHeads: 1024,
  nKvHeads: 1024,
  vocabSize: 4_000_000,
  seqLen: 16_777_216,
};

export function readLlama2cHeader(bytes: Uint8Array, file?: string): Llama2cHeader {
  const r = new ByteReader(bytes, file);
  const raw = {
    dim: r.i32('dim'),
    hiddenDim: r.i32('hidden_dim'),
    nLayers: r.i32('n_layers'),
    nHeads: r.i32('n_heads'),
    nKvHeads: r.i32('n_kv_heads'),
    vocabSize: r.i32('vocab_size'),
    seqLen: r.i32('seq_len'),
  };
  const sharedClassifier = raw.vocabSize > 0;
  const header: Llama2cHeader = { ...raw, vocabSize: Math.abs(raw.vocabSize), sharedClassifier };
  for (const [key, max] of Object.entries(HEADER_LIMITS) as Array<[keyof typeof HEADER_LIMITS, number]>) {
    const value = header[key];
    if (!(value > 0 && value <= max)) {
      throw new ModelFormatError(`header value ${value} is outside 1..${max}; not a llama2.c checkpoint?`, {
        file,
        field: key,
        offset: Object.keys(HEADER_LIMITS).indexOf(key) * 4,
        value,
      });
    }
  }
  if (header.dim % header.nHeads !== 0 || header.nHeads % header.nKvHeads !== 0) {
    throw new ModelFormatError(
      `inconsistent heads: dim ${header.dim}, n_heads ${header.nHeads}, n_kv_heads ${header.nKvHeads}`,
      { file, field: 'n_heads' },
    );
  }
  return header;
}

export function llama2cHeaderToSpec(header: Llama2cHeader, name = 'llama2c'): ModelSpec {
  return {
    architecture: 'llama',
    name,
    vocabSize: header.vocabSize,
    dim: header.dim,
    nLayers: header.nLayers,
    nHeads: header.nHeads,
    nKvHeads: header.nKvHeads,
    ffnDim: header.hiddenDim,
    ropeTheta: DEFAULT_ROPE_THETA,
    ropeLayout: 'adjacent',
    normEps: DEFAULT_NORM_EPS,
    contextLength: header.seqLen,
    tiedEmbeddings: header.sharedClassifier,
    provenance: { format: 'llama2c', source: undefined },
  };
}

/** Bytes a checkpoint with this header must have. */
export function llama2cExpectedSize(h: Llama2cHeader): number {
  const headSize = h.dim / h.nHeads;
  const kv = h.nKvHeads * headSize;
  const floats =
    h.vocabSize * h.dim +
    h.nLayers * (2 * h.dim + 2 * h.dim * h.dim + 2 * h.dim * kv + 3 * h.dim * h.hiddenDim) +
    h.dim +
    h.seqLen * headSize +
    (h.sharedClassifier ? 0 : h.vocabSize * h.dim);
  return HEADER_BYTES + floats * 4;
}

export interface Llama2cCheckpoint {
  spec: ModelSpec;
  weights: Weights;
  header: Llama2cHeader;
}

/**
 * Reads a llama2.c checkpoint (legacy float32 layout). Tensors are zero-copy views into `bytes`.
 * Per-layer matrices are stacked in the file; they are split into canonical per-layer tensors.
 */
export function readLlama2cCheckpoint(bytes: Uint8Array, file?: string): Llama2cCheckpoint {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new ModelFormatError(`file is ${bytes.byteLength} bytes, smaller than the 28-byte llama2.c header`, {
      file,
      field: 'header',
      offset: 0,
    });
  }
  const header = readLlama2cHeader(bytes, file);
  const expected = llama2cExpectedSize(header);
  if (bytes.byteLength < expected) {
    throw new ModelFormatError(
      `file is truncated: the header describes ${expected} bytes of weights and header, the file has ${bytes.byteLength}`,
      { file, field: 'weights', offset: bytes.byteLength },
    );
  }
  const spec = llama2cHeaderToSpec(header, baseName(file));
  spec.provenance = { format: 'llama2c', source: file };
  const headSize = header.dim / header.nHeads;
  const kv = header.nKvHeads * headSize;
  const L = header.nLayers;
  const tensors: Tensor[] = [];
  let offset = HEADER_BYTES;
  const take = (floats: number): Uint8Array => {
    const view = bytes.subarray(offset, offset + floats * 4);
    offset += floats * 4;
    return view;
  };
  const stacked = (name: (layer: number) => string, shape: number[]) => {
    const per = shape.reduce((a, b) => a * b, 1);
    const all = take(per * L);
    for (let l = 0; l < L; l++)
      tensors.push(createTensor(name(l), shape, 'f32', all.subarray(l * per * 4, (l + 1) * per * 4)));
  };
  const n = LlamaTensorNames;
  tensors.push(
    createTensor(n.tokenEmbedding, [header.vocabSize, header.dim], 'f32', take(header.vocabSize * header.dim)),
  );
  stacked(n.attnNorm, [header.dim]);
  stacked(n.attnQ, [header.dim, header.dim]);
  stacked(n.attnK, [kv, header.dim]);
  stacked(n.attnV, [kv, header.dim]);
  stacked(n.attnOutput, [header.dim, header.dim]);
  stacked(n.ffnNorm, [header.dim]);
  stacked(n.ffnGate, [header.hiddenDim, header.dim]);
  stacked(n.ffnDown, [header.dim, header.hiddenDim]);
  stacked(n.ffnUp, [header.hiddenDim, header.dim]);
  tensors.push(createTensor(n.outputNorm, [header.dim], 'f32', take(header.dim)));
  take(header.seqLen * headSize); // legacy RoPE tables, unused
  if (!header.sharedClassifier) {
    tensors.push(createTensor(n.output, [header.vocabSize, header.dim], 'f32', take(header.vocabSize * header.dim)));
  }
  return { spec, weights: new Weights(tensors, file), header };
}

function baseName(file: string | undefined): string {
  if (!file) return 'llama2c';
  const last = file.split(/[\\/]/).pop() ?? file;
  return last.replace(/\.bin$/, '');
}

/**
 * Reads a llama2.c `tok*.bin` tokenizer: int32 max_token_length, then per token a float32 score, an int32 byte
 * length and the bytes. The file does not store the token count: pass the model's vocab size, or it reads to the end.
 */
export function readLlama2cTokenizer(
  bytes: Uint8Array,
  options: { vocabSize?: number; file?: string } = {},
): SpmTokenizer {
  const { file } = options;
  const r = new ByteReader(bytes, file);
  const maxTokenLength = r.i32('max_token_length');
  if (maxTokenLength <= 0 || maxTokenLength > 1024) {
    r.fail(`max_token_length ${maxTokenLength} is outside 1..1024; not a llama2.c tokenizer?`, 'max_token_length', 0);
  }
  const pieces: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const limit = options.vocabSize ?? Number.POSITIVE_INFINITY;
  while (pieces.length < limit && (options.vocabSize !== undefined || r.remaining > 0)) {
    const index = pieces.length;
    const score = r.f32(`token[${index}].score`);
    const length = r.i32(`token[${index}].length`);
    if (length < 0 || length > maxTokenLength * 4 + 16) {
      r.fail(`token length ${length} is outside 0..${maxTokenLength * 4 + 16}`, `token[${index}].length`, r.offset - 4);
    }
    let piece = r.utf8(length, `token[${index}].bytes`);
    if (index === 1 && piece === '\n<s>\n') piece = '<s>';
    if (index === 2 && piece === '\n</s>\n') piece = '</s>';
    piece = piece.replaceAll(' ', '\u2581');
    pieces.push(piece);
    scores.push(Number.isFinite(score) ? score : 0);
    if (index === 0) types.push(TokenType.unknown);
    else if (index === 1 || index === 2) types.push(TokenType.control);
    else if (parseByteToken(piece) !== undefined) types.push(TokenType.byte);
    else types.push(TokenType.normal);
  }
  if (pieces.length < 3) r.fail(`holds ${pieces.length} tokens; at least <unk>, <s>, </s> are needed`, 'tokens');
  return new SpmTokenizer({
    pieces,
    scores,
    types,
    special: { unk: 0, bos: 1, eos: 2 },
    addBos: true,
    addEos: false,
  });
}
