import { InvalidArgumentError, ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { convertTensor, createTensor, elementCount, float32Tensor, type Tensor } from '../model/tensor.js';

/** Largest JSON header accepted (the reference implementation caps it at 100 MB too). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Element sizes of the safetensors dtypes this reader knows (it decodes F32, F16 and BF16). */
const DTYPE_SIZES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface SafetensorsTensorInfo {
  name: string;
  /** safetensors dtype string: F32, F16, BF16, ... */
  dtype: string;
  shape: number[];
  /** Absolute byte range of the data in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The `__metadata__` string map (may be empty). */
  metadata: Record<string, string>;
  tensors: SafetensorsTensorInfo[];
  /** Absolute offset of the data section (8 + header length). */
  dataOffset: number;
}

export interface SafetensorsFile extends SafetensorsHeader {
  file?: string;
  /** The tensor as F32/F16 (BF16 is widened to F32); a zero-copy view for F32 and F16. */
  readTensor(name: string): Tensor;
}

function fail(message: string, file: string | undefined, field: string, offset?: number, value?: unknown): never {
  throw new ModelFormatError(message, { file, field, offset, value });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the 8-byte length; returns the header length, checked against the cap and the file size. */
export function readSafetensorsHeaderLength(prefix: Uint8Array, fileSize: number, file?: string): number {
  if (prefix.byteLength < 8 || fileSize < 8)
    fail(`file is ${fileSize} bytes, too short for the 8-byte header length`, file, 'header length', 0);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(SAFETENSORS_MAX_HEADER_BYTES))
    fail(`header length ${length} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`, file, 'header length', 0);
  if (Number(length) > fileSize - 8)
    fail(`header length ${length} runs past the end of the ${fileSize}-byte file`, file, 'header length', 0);
  if (length < 2n) fail(`header length ${length} cannot hold a JSON object`, file, 'header length', 0);
  return Number(length);
}

/** Parses and checks the JSON header (`headerBytes` = the bytes after the 8-byte length) of a file of `fileSize` bytes. */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file?: string): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new ModelFormatError(`header is not valid UTF-8 JSON (${(error as Error).message})`, {
      file,
      field: 'header',
      offset: 8,
      cause: error,
    });
  }
  if (!isObject(json)) fail('header is not a JSON object', file, 'header', 8);
  const dataOffset = 8 + headerBytes.byteLength;
  const dataSize = fileSize - dataOffset;
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(entry)) fail('__metadata__ must be an object of strings', file, '__metadata__');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') fail('__metadata__ values must be strings', file, `__metadata__.${k}`, undefined, v);
        metadata[k] = v;
      }
      continue;
    }
    if (!isObject(entry)) fail('tensor entry is not an object', file, name);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || DTYPE_SIZES[dtype] === undefined)
      fail(`unknown dtype ${JSON.stringify(dtype)}`, file, `${name}.dtype`, undefined, dtype);
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, file, `${name}.shape`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`, file, `${name}.data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape as number[]);
    if (!Number.isSafeInteger(count * DTYPE_SIZES[dtype])) fail('element count overflows', file, `${name}.shape`);
    if (end < begin || end > dataSize)
      fail(
        `data_offsets [${begin}, ${end}] lie outside the ${dataSize}-byte data section`,
        file,
        `${name}.data_offsets`,
      );
    if (end - begin !== count * DTYPE_SIZES[dtype]) {
      fail(
        `holds ${end - begin} bytes, ${dtype} [${(shape as number[]).join(', ')}] needs ${count * DTYPE_SIZES[dtype]}`,
        file,
        `${name}.data_offsets`,
      );
    }
    tensors.push({ name, dtype, shape: shape as number[], begin: dataOffset + begin, end: dataOffset + end });
  }
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end)
      fail(`data overlaps tensor ${sorted[i - 1].name}`, file, sorted[i].name, sorted[i].begin);
  }
  return { metadata, tensors, dataOffset };
}

/** Builds a core Tensor from safetensors bytes: F32/F16 as views, BF16 widened to F32. */
export function safetensorFromBytes(info: SafetensorsTensorInfo, data: Uint8Array, file?: string): Tensor {
  switch (info.dtype) {
    case 'F32':
      return createTensor(info.name, info.shape, 'f32', data);
    case 'F16':
      return createTensor(info.name, info.shape, 'f16', data);
    case 'BF16': {
      const out = new Float32Array(data.byteLength / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = (data[2 * i] | (data[2 * i + 1] << 8)) << 16;
      return float32Tensor(info.name, info.shape, out);
    }
    default:
      throw new UnsupportedFeatureError(`dtype ${info.dtype} cannot be decoded (F32, F16 and BF16 can)`, {
        file,
        field: info.name,
        value: info.dtype,
      });
  }
}

/** Reads a safetensors file held in memory. All sizes and offsets are checked before any tensor is touched. */
export function readSafetensors(bytes: Uint8Array, file?: string): SafetensorsFile {
  const length = readSafetensorsHeaderLength(bytes, bytes.byteLength, file);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + length), bytes.byteLength, file);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  return {
    ...header,
    file,
    readTensor(name: string): Tensor {
      const info = byName.get(name);
      if (!info) throw new ModelFormatError('tensor is not in the file', { file, field: name });
      return safetensorFromBytes(info, bytes.subarray(info.begin, info.end), file);
    },
  };
}

export interface WriteSafetensorsOptions {
  tensors: readonly Tensor[];
  /** `__metadata__` strings, e.g. `{ format: 'pt' }`. */
  metadata?: Record<string, string>;
}

/**
 * Writes a safetensors file: F32 and F16 tensors as they are, block-quantised ones widened to F32. The header is
 * padded with spaces to a multiple of 8 bytes so the data section is aligned.
 */
export function writeSafetensors(options: WriteSafetensorsOptions): Uint8Array {
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  const tensors = options.tensors.map((t) => (t.dtype === 'f32' || t.dtype === 'f16' ? t : convertTensor(t, 'f32')));
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header)
      throw new InvalidArgumentError('duplicate or reserved tensor name', { field: t.name });
    header[t.name] = {
      dtype: t.dtype === 'f32' ? 'F32' : 'F16',
      shape: [...t.shape],
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(jsonBytes.length / 8) * 8;
  json += ' '.repeat(padded - jsonBytes.length);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  let cursor = 8 + padded;
  for (const t of tensors) {
    out.set(t.data, cursor);
    cursor += t.data.byteLength;
  }
  return out;
}
