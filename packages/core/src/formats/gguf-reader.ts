import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { createTensor, type Tensor } from '../model/tensor.js';
import { ByteReader } from './byte-reader.js';
import {
  GGML_TYPE_INFO,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_ALIGNMENT,
  GGUF_MAX_DIMS,
  type GgufBufferFile,
  type GgufTensorInfo,
  type GgufValue,
  GgufValueType,
  ggmlTypeName,
  ggmlTypeToDType,
} from './gguf-types.js';

/** Nesting limit for arrays of arrays (the spec allows them; real files use depth 1). */
const MAX_ARRAY_DEPTH = 8;
/** Smallest encoding of one metadata key/value: key length (8) + 1 key byte + value type (4) + 1 value byte. */
const MIN_KV_BYTES = 14;
/** Smallest encoding of one tensor info: name length (8) + n_dims (4) + one dim (8) + type (4) + offset (8). */
const MIN_TENSOR_INFO_BYTES = 32;
/**
 * Limits on metadata array items (per array, and in the whole file): a uint8 array costs 1 byte on disk but a
 * JS number in memory, so these bound the blow-up of a hostile file. Real vocabularies stay far below them.
 */
export const GGUF_MAX_ARRAY_ITEMS = 1 << 24;
export const GGUF_MAX_TOTAL_ARRAY_ITEMS = 1 << 26;
/** Limits on metadata entries and tensors (real files hold tens of keys and at most a few thousand tensors). */
export const GGUF_MAX_METADATA_ENTRIES = 1 << 16;
export const GGUF_MAX_TENSORS = 1 << 20;
const SCALAR_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/**
 * Thrown internally when a header is parsed from a prefix of a file and the prefix ends before the header does;
 * the caller reads more and retries. Never escapes this module's callers.
 */
export class GgufNeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`need ${needed} bytes`);
  }
}

/**
 * A ByteReader over the first bytes of a file of known size: a read past the prefix but inside the file asks for
 * more bytes (GgufNeedMoreBytes); a read past the end of the file is a ModelFormatError.
 */
class PrefixReader extends ByteReader {
  /** Metadata array items read so far (see GGUF_MAX_TOTAL_ARRAY_ITEMS). */
  arrayItems = 0;

  constructor(
    bytes: Uint8Array,
    readonly fileSize: number,
    file?: string,
  ) {
    super(bytes, file);
  }

  /** Bytes left in the whole file, not only the prefix. */
  get fileRemaining(): number {
    return this.fileSize - this.offset;
  }

  override need(count: number, field: string): void {
    if (!Number.isFinite(count) || count < 0) this.fail(`invalid length ${count}`, field);
    if (count > this.fileRemaining) {
      this.fail(`file is truncated: ${field} needs ${count} bytes, ${this.fileRemaining} remain`, field);
    }
    if (count > this.remaining) throw new GgufNeedMoreBytes(this.offset + count);
  }
}

/** What the header of a GGUF file says, before any tensor data is read. */
export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataOffset: number;
}

function readString(r: PrefixReader, field: string): string {
  const start = r.offset;
  const length = r.u64(`${field} length`);
  if (length > r.fileRemaining) {
    r.fail(`string length ${length} exceeds the ${r.fileRemaining} bytes left in the file`, `${field} length`, start);
  }
  return r.utf8(length, field);
}

function readScalar(r: PrefixReader, type: number, field: string): number | bigint | boolean | string {
  switch (type) {
    case GgufValueType.uint8:
      return r.u8(field);
    case GgufValueType.int8:
      return r.i8(field);
    case GgufValueType.uint16:
      return r.u16(field);
    case GgufValueType.int16:
      return r.i16(field);
    case GgufValueType.uint32:
      return r.u32(field);
    case GgufValueType.int32:
      return r.i32(field);
    case GgufValueType.float32:
      return r.f32(field);
    case GgufValueType.float64:
      return r.f64(field);
    case GgufValueType.uint64:
      return r.u64Big(field);
    case GgufValueType.int64:
      return r.i64Big(field);
    case GgufValueType.bool: {
      const start = r.offset;
      const b = r.u8(field);
      if (b > 1) r.fail(`bool value ${b} is neither 0 nor 1`, field, start);
      return b === 1;
    }
    case GgufValueType.string:
      return readString(r, field);
    default:
      return r.fail(`unknown value type ${type}`, field);
  }
}

function readValue(r: PrefixReader, type: number, field: string, depth: number): GgufValue {
  if (type !== GgufValueType.array) {
    if (SCALAR_SIZES[type] === undefined && type !== GgufValueType.string) {
      r.fail(`unknown value type ${type}`, field, r.offset - 4);
    }
    return { type, value: readScalar(r, type, field) } as GgufValue;
  }
  if (depth >= MAX_ARRAY_DEPTH) r.fail(`arrays nested deeper than ${MAX_ARRAY_DEPTH}`, field);
  const typeOffset = r.offset;
  const itemType = r.u32(`${field} item type`);
  if (itemType > GgufValueType.float64) r.fail(`unknown array item type ${itemType}`, `${field} item type`, typeOffset);
  const countOffset = r.offset;
  const count = r.u64(`${field} count`);
  // Every item takes at least this many bytes: check the declared count against the file BEFORE allocating.
  const minItem =
    itemType === GgufValueType.string ? 8 : itemType === GgufValueType.array ? 12 : SCALAR_SIZES[itemType];
  if (count * minItem > r.fileRemaining) {
    r.fail(
      `array of ${count} items needs at least ${count * minItem} bytes, ${r.fileRemaining} remain`,
      `${field} count`,
      countOffset,
    );
  }
  r.arrayItems += count;
  if (count > GGUF_MAX_ARRAY_ITEMS || r.arrayItems > GGUF_MAX_TOTAL_ARRAY_ITEMS) {
    r.fail(
      `array of ${count} items exceeds the limit of ${GGUF_MAX_ARRAY_ITEMS} per array / ${GGUF_MAX_TOTAL_ARRAY_ITEMS} per file`,
      `${field} count`,
      countOffset,
    );
  }
  if (itemType === GgufValueType.array) {
    const items: GgufValue[] = [];
    // Each item is an array encoded without its own type tag: item type, count, items.
    for (let i = 0; i < count; i++) items.push(readValue(r, GgufValueType.array, `${field}[${i}]`, depth + 1));
    return { type: GgufValueType.array, itemType: GgufValueType.array, value: items };
  }
  const items: Array<number | bigint | boolean | string> = new Array(count);
  for (let i = 0; i < count; i++) items[i] = readScalar(r, itemType, `${field}[${i}]`);
  return { type: GgufValueType.array, itemType, value: items } as GgufValue;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function parseHeader(r: PrefixReader): GgufHeader {
  const magic = r.u32('magic');
  if (magic !== GGUF_MAGIC) r.fail(`bad magic 0x${magic.toString(16).padStart(8, '0')}, expected "GGUF"`, 'magic', 0);
  const version = r.u32('version');
  if (version !== 2 && version !== 3) {
    r.fail(
      version === 1 ? 'GGUF version 1 is not supported (re-convert the model)' : `unknown GGUF version ${version}`,
      'version',
      4,
    );
  }
  const tensorCount = r.u64('tensor_count');
  if (tensorCount > GGUF_MAX_TENSORS)
    r.fail(`${tensorCount} tensors exceed the limit of ${GGUF_MAX_TENSORS}`, 'tensor_count', 8);
  if (tensorCount * MIN_TENSOR_INFO_BYTES > r.fileRemaining) {
    r.fail(`${tensorCount} tensors cannot fit in the ${r.fileRemaining} bytes left`, 'tensor_count', 8);
  }
  const kvCount = r.u64('metadata_kv_count');
  if (kvCount > GGUF_MAX_METADATA_ENTRIES) {
    r.fail(`${kvCount} metadata entries exceed the limit of ${GGUF_MAX_METADATA_ENTRIES}`, 'metadata_kv_count', 16);
  }
  if (kvCount * MIN_KV_BYTES > r.fileRemaining) {
    r.fail(`${kvCount} metadata entries cannot fit in the ${r.fileRemaining} bytes left`, 'metadata_kv_count', 16);
  }
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const keyOffset = r.offset;
    const key = readString(r, `metadata[${i}].key`);
    if (key.length === 0) r.fail('metadata key is empty', `metadata[${i}].key`, keyOffset);
    if (metadata.has(key)) r.fail('duplicate metadata key', key, keyOffset);
    const type = r.u32(`${key} type`);
    metadata.set(key, readValue(r, type, key, 0));
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignValue = metadata.get('general.alignment');
  if (alignValue !== undefined) {
    const a = alignValue.type === GgufValueType.uint32 ? alignValue.value : Number.NaN;
    if (!(a > 0 && a <= GGUF_MAX_ALIGNMENT && (a & (a - 1)) === 0)) {
      throw new ModelFormatError(
        `must be a uint32 power of two no larger than ${GGUF_MAX_ALIGNMENT}, got ${String(alignValue.value)}`,
        { file: r.file, field: 'general.alignment', value: alignValue.value },
      );
    }
    alignment = a;
  }
  const tensors: GgufTensorInfo[] = [];
  const relative: number[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const infoOffset = r.offset;
    const name = readString(r, `tensor[${i}].name`);
    if (names.has(name)) r.fail('duplicate tensor name', name, infoOffset);
    names.add(name);
    const dimsOffset = r.offset;
    const nDims = r.u32(`${name}.n_dims`);
    if (nDims < 1 || nDims > GGUF_MAX_DIMS)
      r.fail(`n_dims ${nDims} is outside 1..${GGUF_MAX_DIMS}`, `${name}.n_dims`, dimsOffset);
    const ne: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const dimOffset = r.offset;
      const dim = r.u64(`${name}.ne[${d}]`, 2 ** 40);
      elements *= dim;
      if (elements > Number.MAX_SAFE_INTEGER) r.fail('element count overflows', `${name}.ne[${d}]`, dimOffset);
      ne.push(dim);
    }
    const typeOffset = r.offset;
    const ggmlType = r.u32(`${name}.type`);
    const info = GGML_TYPE_INFO[ggmlType];
    if (!info) r.fail(`unknown ggml type ${ggmlType}`, `${name}.type`, typeOffset);
    if (ne[0] % info.blockSize !== 0) {
      r.fail(
        `row size ${ne[0]} is not a multiple of the ${info.name} block size ${info.blockSize}`,
        `${name}.ne[0]`,
        dimsOffset + 4,
      );
    }
    const offsetOffset = r.offset;
    const offset = r.u64(`${name}.offset`);
    if (offset % alignment !== 0)
      r.fail(`data offset ${offset} is not a multiple of the alignment ${alignment}`, `${name}.offset`, offsetOffset);
    const byteSize = (elements / info.blockSize) * info.typeSize;
    relative.push(offset);
    tensors.push({
      name,
      shape: ne.slice().reverse(),
      ggmlType,
      dtype: ggmlTypeToDType(ggmlType),
      offset,
      byteSize,
    });
  }
  const dataOffset = alignUp(r.offset, alignment);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    t.offset = dataOffset + relative[i];
    if (t.offset + t.byteSize > r.fileSize) {
      throw new ModelFormatError(
        `tensor data [${t.offset}, ${t.offset + t.byteSize}) lies outside the file of ${r.fileSize} bytes`,
        { file: r.file, field: t.name, offset: t.offset },
      );
    }
  }
  return { version, metadata, tensors, alignment, dataOffset };
}

/**
 * Parses a GGUF header from the first `bytes.length` bytes of a file of `fileSize` bytes. Throws GgufNeedMoreBytes
 * when the header runs past the bytes given but not past the file, ModelFormatError for anything malformed.
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize: number, file?: string): GgufHeader {
  return parseHeader(new PrefixReader(bytes, fileSize, file));
}

/** Checks a tensor is one core decodes and returns a Tensor over `data` (its bytes). */
export function ggufTensorFromBytes(info: GgufTensorInfo, data: Uint8Array, file?: string): Tensor {
  if (!info.dtype) {
    throw new UnsupportedFeatureError(`ggml type ${ggmlTypeName(info.ggmlType)} cannot be decoded by slmkit`, {
      file,
      field: info.name,
      value: info.ggmlType,
    });
  }
  return createTensor(info.name, info.shape, info.dtype, data);
}

/** Looks up a tensor info by name, or throws ModelFormatError naming it. */
export function findGgufTensor(tensors: readonly GgufTensorInfo[], name: string, file?: string): GgufTensorInfo {
  const info = tensors.find((t) => t.name === name);
  if (!info) throw new ModelFormatError('tensor is not in the file', { file, field: name });
  return info;
}

/**
 * Reads a GGUF file held in memory. Synchronous and zero-copy: `readTensor` returns views into `bytes`.
 * Every declared size is checked against the bytes present before anything is allocated.
 */
export function readGguf(bytes: Uint8Array, file?: string): GgufBufferFile {
  let header: GgufHeader;
  try {
    header = parseGgufHeader(bytes, bytes.byteLength, file);
  } catch (error) {
    // Cannot happen with fileSize === bytes.length; kept so the internal signal never leaks.
    if (error instanceof GgufNeedMoreBytes) {
      throw new ModelFormatError('file is truncated', { file, offset: bytes.byteLength });
    }
    throw error;
  }
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  return {
    ...header,
    file,
    fileSize: bytes.byteLength,
    readTensor(name: string): Tensor {
      const info = byName.get(name) ?? findGgufTensor(header.tensors, name, file);
      return ggufTensorFromBytes(info, bytes.subarray(info.offset, info.offset + info.byteSize), file);
    },
  };
}

/** A metadata value as a plain JS value (numbers, bigints, strings, booleans, arrays), for display and JSON. */
export function ggufValueToJs(value: GgufValue): unknown {
  if (value.type === GgufValueType.array && value.itemType === GgufValueType.array) {
    return (value.value as GgufValue[]).map(ggufValueToJs);
  }
  return value.value;
}
