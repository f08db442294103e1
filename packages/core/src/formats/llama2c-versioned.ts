import { InvalidArgumentError, ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import type { ModelData } from '../model/backend.js';
import { concatArrays } from '../model/concat-arrays.js';
import type { ModelSpec } from '../model/model-spec.js';
import { DEFAULT_NORM_EPS, DEFAULT_ROPE_THETA, headDim, kvDim } from '../model/model-spec.js';
import { convertRopeLayout } from '../model/rope-layout.js';
import { createTensor, float32Tensor, type Tensor } from '../model/tensor.js';
import { LlamaTensorNames as N, validateLlamaWeights, Weights } from '../model/weights.js';
import { ByteReader } from './byte-reader.js';
import {
  type Llama2cCheckpoint,
  type Llama2cHeader,
  llama2cHeaderToSpec,
  readLlama2cCheckpoint as readLlama2cCheckpointLegacy,
  readLlama2cHeader,
} from './llama2c.js';

/**
 * llama2.c's versioned export format (export.py): a 256-byte header — uint32 magic "ak42" (0x616b3432), int32
 * version, the seven int32 of the legacy header (vocab_size always positive), uint8 shared_classifier, and for
 * version 2 an int32 group size — then:
 * - version 1: float32 attention norms (all layers), FFN norms, final norm, token embedding, wq, wk, wv, wo, w1, w2,
 *   w3 (all layers each), and the classifier unless shared;
 * - version 2: the norms in float32, then every matrix in that order (embedding first) as int8 values followed by
 *   one float32 scale per group (symmetric Q8_0 with the header's group size). Read back as float32.
 */
export const LLAMA2C_MAGIC = 0x616b3432;
export const LLAMA2C_VERSIONED_HEADER_BYTES = 256;

export interface Llama2cVersionedHeader extends Llama2cHeader {
  version: 1 | 2;
  /** Version 2 only: values per quantisation group. */
  groupSize?: number;
}

export function isVersionedLlama2c(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === LLAMA2C_MAGIC;
}

export function readLlama2cVersionedHeader(bytes: Uint8Array, file?: string): Llama2cVersionedHeader {
  const r = new ByteReader(bytes, file);
  r.need(LLAMA2C_VERSIONED_HEADER_BYTES, 'header');
  if (r.u32('magic') !== LLAMA2C_MAGIC) r.fail('bad magic, expected "ak42"', 'magic', 0);
  const version = r.i32('version');
  if (version !== 1 && version !== 2) {
    throw new UnsupportedFeatureError(`llama2.c export version ${version} is not supported (1 and 2 are)`, {
      file,
      field: 'version',
      offset: 4,
      value: version,
    });
  }
  // The seven legacy fields follow; vocab_size is positive and the classifier flag is a byte after them.
  const legacy = readLlama2cHeader(bytes.subarray(8, 36), file);
  const flagOffset = 36;
  const flag = r.bytes[flagOffset];
  if (flag > 1) r.fail(`shared_classifier flag ${flag} is neither 0 nor 1`, 'shared_classifier', flagOffset);
  if (!legacy.sharedClassifier) r.fail('vocab_size must be positive in a versioned export', 'vocab_size', 28);
  const header: Llama2cVersionedHeader = { ...legacy, sharedClassifier: flag === 1, version };
  if (version === 2) {
    r.offset = 37;
    const groupSize = r.i32('group_size');
    if (!(groupSize > 0 && groupSize <= 4096)) r.fail(`group size ${groupSize} is outside 1..4096`, 'group_size', 37);
    header.groupSize = groupSize;
  }
  return header;
}

interface MatrixPlan {
  names: string[];
  shape: number[];
}

function matrixPlan(h: Llama2cHeader): MatrixPlan[] {
  const layers = Array.from({ length: h.nLayers }, (_, l) => l);
  const kv = (h.dim / h.nHeads) * h.nKvHeads;
  const plan: MatrixPlan[] = [
    { names: [N.tokenEmbedding], shape: [h.vocabSize, h.dim] },
    { names: layers.map(N.attnQ), shape: [h.dim, h.dim] },
    { names: layers.map(N.attnK), shape: [kv, h.dim] },
    { names: layers.map(N.attnV), shape: [kv, h.dim] },
    { names: layers.map(N.attnOutput), shape: [h.dim, h.dim] },
    { names: layers.map(N.ffnGate), shape: [h.hiddenDim, h.dim] },
    { names: layers.map(N.ffnDown), shape: [h.dim, h.hiddenDim] },
    { names: layers.map(N.ffnUp), shape: [h.hiddenDim, h.dim] },
  ];
  if (!h.sharedClassifier) plan.push({ names: [N.output], shape: [h.vocabSize, h.dim] });
  return plan;
}

function normPlan(h: Llama2cHeader): MatrixPlan[] {
  const layers = Array.from({ length: h.nLayers }, (_, l) => l);
  return [
    { names: layers.map(N.attnNorm), shape: [h.dim] },
    { names: layers.map(N.ffnNorm), shape: [h.dim] },
    { names: [N.outputNorm], shape: [h.dim] },
  ];
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes a versioned checkpoint with this header must have. */
export function llama2cVersionedExpectedSize(h: Llama2cVersionedHeader): number {
  let size = LLAMA2C_VERSIONED_HEADER_BYTES;
  for (const p of normPlan(h)) size += p.names.length * count(p.shape) * 4;
  for (const p of matrixPlan(h)) {
    const n = count(p.shape);
    if (h.version === 1) size += p.names.length * n * 4;
    else size += p.names.length * (n + (n / (h.groupSize ?? 1)) * 4);
  }
  return size;
}

/** Reads a llama2.c version 1 (float32, zero-copy) or version 2 (int8 groups, dequantised to float32) checkpoint. */
export function readLlama2cVersioned(bytes: Uint8Array, file?: string): Llama2cCheckpoint {
  const header = readLlama2cVersionedHeader(bytes, file);
  if (header.version === 2) {
    const g = header.groupSize ?? 1;
    for (const p of matrixPlan(header)) {
      if (count(p.shape) % g !== 0) {
        throw new ModelFormatError(
          `${p.names[0]} has ${count(p.shape)} values, not a multiple of the group size ${g}`,
          { file, field: 'group_size', value: g },
        );
      }
    }
  }
  const expected = llama2cVersionedExpectedSize(header);
  if (bytes.byteLength < expected) {
    throw new ModelFormatError(
      `file is truncated: the header describes ${expected} bytes, the file has ${bytes.byteLength}`,
      {
        file,
        field: 'weights',
        offset: bytes.byteLength,
      },
    );
  }
  const tensors: Tensor[] = [];
  let offset = LLAMA2C_VERSIONED_HEADER_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f32 = (name: string, shape: number[]) => {
    const n = count(shape);
    tensors.push(createTensor(name, shape, 'f32', bytes.subarray(offset, offset + n * 4)));
    offset += n * 4;
  };
  for (const p of normPlan(header)) for (const name of p.names) f32(name, p.shape);
  for (const p of matrixPlan(header)) {
    for (const name of p.names) {
      if (header.version === 1) {
        f32(name, p.shape);
        continue;
      }
      const n = count(p.shape);
      const g = header.groupSize ?? 1;
      const qStart = offset;
      const sStart = offset + n;
      const out = new Float32Array(n);
      for (let group = 0; group < n / g; group++) {
        const scale = view.getFloat32(sStart + group * 4, true);
        for (let j = 0; j < g; j++) {
          const i = group * g + j;
          out[i] = view.getInt8(qStart + i) * scale;
        }
      }
      tensors.push(float32Tensor(name, p.shape, out));
      offset += n + (n / g) * 4;
    }
  }
  const spec = llama2cHeaderToSpec(
    header,
    file
      ?.split(/[\\/]/)
      .pop()
      ?.replace(/\.bin$/, '') ?? 'llama2c',
  );
  spec.provenance = { format: 'llama2c', source: file };
  return { spec, weights: new Weights(tensors, file), header };
}

export interface WriteLlama2cOptions {
  /** 0 = legacy float32 (run.c), 1 = versioned float32, 2 = versioned int8 groups. Default 0. */
  version?: 0 | 1 | 2;
  /** Version 2 group size; default 64, halved until it divides the width (as export.py does). */
  groupSize?: number;
}

function f32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Writes a model as a llama2.c checkpoint (for tests and for llama2.c's run.c). The model must use llama2.c's fixed
 * RoPE theta (10000) and RMSNorm epsilon (1e-5); q/k are converted to the adjacent layout.
 */
export function writeLlama2cCheckpoint(
  data: Pick<ModelData, 'spec' | 'weights'>,
  options: WriteLlama2cOptions = {},
): Uint8Array {
  const version = options.version ?? 0;
  const { spec, weights } = convertRopeLayout(data.spec, data.weights, 'adjacent');
  validateLlamaWeights(spec, weights);
  checkWritable(spec);
  const header: Llama2cVersionedHeader = {
    dim: spec.dim,
    hiddenDim: spec.ffnDim,
    nLayers: spec.nLayers,
    nHeads: spec.nHeads,
    nKvHeads: spec.nKvHeads,
    vocabSize: spec.vocabSize,
    seqLen: spec.contextLength,
    sharedClassifier: spec.tiedEmbeddings,
    version: version === 2 ? 2 : 1,
  };
  const parts: Uint8Array[] = [];
  const ints = (values: number[]) => {
    const b = new Uint8Array(values.length * 4);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => {
      v.setInt32(i * 4, x, true);
    });
    return b;
  };
  const legacyFields = [
    spec.dim,
    spec.ffnDim,
    spec.nLayers,
    spec.nHeads,
    spec.nKvHeads,
    spec.vocabSize,
    spec.contextLength,
  ];
  if (version === 0) {
    legacyFields[5] = spec.tiedEmbeddings ? spec.vocabSize : -spec.vocabSize;
    parts.push(ints(legacyFields));
    const order = [
      N.tokenEmbedding,
      N.attnNorm,
      N.attnQ,
      N.attnK,
      N.attnV,
      N.attnOutput,
      N.ffnNorm,
      N.ffnGate,
      N.ffnDown,
      N.ffnUp,
    ];
    parts.push(f32Bytes(weights.float32(N.tokenEmbedding).slice()));
    for (const name of order.slice(1)) {
      for (let l = 0; l < spec.nLayers; l++)
        parts.push(f32Bytes(weights.float32((name as (l: number) => string)(l)).slice()));
    }
    parts.push(f32Bytes(weights.float32(N.outputNorm).slice()));
    parts.push(new Uint8Array(spec.contextLength * headDim(spec) * 4)); // legacy RoPE tables: unused by run.c
    if (!spec.tiedEmbeddings) parts.push(f32Bytes(weights.float32(N.output).slice()));
    return concatArrays(parts, Uint8Array);
  }
  let groupSize = options.groupSize ?? 64;
  if (version === 2) {
    while (groupSize > 1 && spec.dim % groupSize !== 0) groupSize /= 2;
    header.groupSize = groupSize;
    for (const p of matrixPlan(header)) {
      if (count(p.shape) % groupSize !== 0) {
        throw new InvalidArgumentError(`${p.names[0]} does not split into groups of ${groupSize}`, {
          field: 'groupSize',
          value: groupSize,
        });
      }
    }
  }
  const head = new Uint8Array(LLAMA2C_VERSIONED_HEADER_BYTES);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, LLAMA2C_MAGIC, true);
  hv.setInt32(4, header.version, true);
  legacyFields.forEach((x, i) => {
    hv.setInt32(8 + i * 4, x, true);
  });
  head[36] = spec.tiedEmbeddings ? 1 : 0;
  if (version === 2) hv.setInt32(37, groupSize, true);
  parts.push(head);
  for (const p of normPlan(header)) for (const name of p.names) parts.push(f32Bytes(weights.float32(name).slice()));
  for (const p of matrixPlan(header)) {
    for (const name of p.names) {
      const values = weights.float32(name);
      if (version === 1) {
        parts.push(f32Bytes(values.slice()));
        continue;
      }
      const q = new Int8Array(values.length);
      const scales = new Float32Array(values.length / groupSize);
      for (let group = 0; group < scales.length; group++) {
        let max = 0;
        for (let j = 0; j < groupSize; j++) max = Math.max(max, Math.abs(values[group * groupSize + j]));
        const scale = max / 127;
        scales[group] = scale;
        for (let j = 0; j < groupSize; j++) {
          const i = group * groupSize + j;
          q[i] = scale === 0 ? 0 : Math.round(values[i] / scale);
        }
      }
      parts.push(new Uint8Array(q.buffer), f32Bytes(scales));
    }
  }
  return concatArrays(parts, Uint8Array);
}

function checkWritable(spec: ModelSpec): void {
  if (Math.fround(spec.ropeTheta) !== Math.fround(DEFAULT_ROPE_THETA)) {
    throw new UnsupportedFeatureError(
      `llama2.c fixes RoPE theta at ${DEFAULT_ROPE_THETA}, the model uses ${spec.ropeTheta}`,
      { field: 'ropeTheta' },
    );
  }
  if (Math.fround(spec.normEps) !== Math.fround(DEFAULT_NORM_EPS)) {
    throw new UnsupportedFeatureError(
      `llama2.c fixes the RMSNorm epsilon at ${DEFAULT_NORM_EPS}, the model uses ${spec.normEps}`,
      { field: 'normEps' },
    );
  }
  if (kvDim(spec) * spec.nHeads !== spec.dim * spec.nKvHeads) {
    throw new InvalidArgumentError('inconsistent head counts', { field: 'nKvHeads' });
  }
}

/** Reads any llama2.c checkpoint: legacy (version 0) or versioned export (1, 2), told apart by the magic. */
export function readAnyLlama2cCheckpoint(bytes: Uint8Array, file?: string): Llama2cCheckpoint {
  return isVersionedLlama2c(bytes) ? readLlama2cVersioned(bytes, file) : readLlama2cCheckpointLegacy(bytes, file);
}
