import type { DType, Tensor } from '../model/tensor.js';

/** GGUF metadata value types (the numbering of the GGUF v3 specification). */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/**
 * A metadata value as read: numbers for 8..32-bit integers and floats, bigint for 64-bit integers, strings,
 * booleans, and typed arrays. `type` (and `itemType` for arrays) keeps the on-disk type so a file round-trips.
 */
export type GgufValue =
  | { type: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 12; value: number }
  | { type: 10 | 11; value: bigint }
  | { type: 7; value: boolean }
  | { type: 8; value: string }
  | { type: 9; itemType: Exclude<GgufValueType, 9>; value: GgufArrayValue }
  | { type: 9; itemType: 9; value: GgufValue[] };

export type GgufArrayValue = number[] | bigint[] | boolean[] | string[];

/** ggml tensor types by number (subset slmkit reads or writes; others are reported by number). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
  Q4_K: 12,
} as const;

/** `GGUF` read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
/** Alignment of tensor data when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Largest `general.alignment` slmkit accepts (1 MiB). */
export const GGUF_MAX_ALIGNMENT = 1 << 20;
/** ggml's GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME: tensor names must be shorter than this many bytes. */
export const GGML_MAX_NAME = 64;

/** Name, block size (elements) and block byte size of every ggml tensor type, by number. */
export const GGML_TYPE_INFO: Readonly<Record<number, { name: string; blockSize: number; typeSize: number }>> = {
  0: { name: 'F32', blockSize: 1, typeSize: 4 },
  1: { name: 'F16', blockSize: 1, typeSize: 2 },
  2: { name: 'Q4_0', blockSize: 32, typeSize: 18 },
  3: { name: 'Q4_1', blockSize: 32, typeSize: 20 },
  6: { name: 'Q5_0', blockSize: 32, typeSize: 22 },
  7: { name: 'Q5_1', blockSize: 32, typeSize: 24 },
  8: { name: 'Q8_0', blockSize: 32, typeSize: 34 },
  9: { name: 'Q8_1', blockSize: 32, typeSize: 36 },
  10: { name: 'Q2_K', blockSize: 256, typeSize: 84 },
  11: { name: 'Q3_K', blockSize: 256, typeSize: 110 },
  12: { name: 'Q4_K', blockSize: 256, typeSize: 144 },
  13: { name: 'Q5_K', blockSize: 256, typeSize: 176 },
  14: { name: 'Q6_K', blockSize: 256, typeSize: 210 },
  15: { name: 'Q8_K', blockSize: 256, typeSize: 292 },
  16: { name: 'IQ2_XXS', blockSize: 256, typeSize: 66 },
  17: { name: 'IQ2_XS', blockSize: 256, typeSize: 74 },
  18: { name: 'IQ3_XXS', blockSize: 256, typeSize: 98 },
  19: { name: 'IQ1_S', blockSize: 256, typeSize: 50 },
  20: { name: 'IQ4_NL', blockSize: 32, typeSize: 18 },
  21: { name: 'IQ3_S', blockSize: 256, typeSize: 110 },
  22: { name: 'IQ2_S', blockSize: 256, typeSize: 82 },
  23: { name: 'IQ4_XS', blockSize: 256, typeSize: 136 },
  24: { name: 'I8', blockSize: 1, typeSize: 1 },
  25: { name: 'I16', blockSize: 1, typeSize: 2 },
  26: { name: 'I32', blockSize: 1, typeSize: 4 },
  27: { name: 'I64', blockSize: 1, typeSize: 8 },
  28: { name: 'F64', blockSize: 1, typeSize: 8 },
  29: { name: 'IQ1_M', blockSize: 256, typeSize: 56 },
  30: { name: 'BF16', blockSize: 1, typeSize: 2 },
  34: { name: 'TQ1_0', blockSize: 256, typeSize: 54 },
  35: { name: 'TQ2_0', blockSize: 256, typeSize: 66 },
  39: { name: 'MXFP4', blockSize: 32, typeSize: 17 },
};

/** ggml type number of each core DType. */
export const DTYPE_TO_GGML: Readonly<Record<DType, number>> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  q8_0: GgmlType.Q8_0,
  q4_0: GgmlType.Q4_0,
  q4_K: GgmlType.Q4_K,
};

/** The core DType of a ggml type, or undefined for types core cannot decode. */
export function ggmlTypeToDType(type: number): DType | undefined {
  for (const [dtype, ggml] of Object.entries(DTYPE_TO_GGML)) {
    if (ggml === type) return dtype as DType;
  }
  return undefined;
}

export function ggmlTypeName(type: number): string {
  return GGML_TYPE_INFO[type]?.name ?? `type ${type}`;
}

/** One tensor of a GGUF file. */
export interface GgufTensorInfo {
  name: string;
  /** Outermost first (ggml's `ne` reversed), e.g. [out, in] for a weight matrix. */
  shape: number[];
  ggmlType: number;
  /** The core DType, when core can decode this ggml type. */
  dtype?: DType;
  /** Absolute byte offset of the tensor data in the file. */
  offset: number;
  byteSize: number;
}

/** A parsed GGUF file: metadata and tensor infos in memory, tensor data read on demand. */
export interface GgufFile {
  version: number;
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  /** Path or label, for error messages. */
  file?: string;
  /** Total bytes of the file. */
  fileSize?: number;
  readTensor(name: string): Promise<Tensor> | Tensor;
  close?(): Promise<void>;
}

/** A GGUF file held in memory: tensors are read synchronously as views into its bytes. */
export interface GgufBufferFile extends GgufFile {
  readTensor(name: string): Tensor;
}
