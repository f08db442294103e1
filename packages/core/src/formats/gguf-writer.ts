import { InvalidArgumentError } from '../errors/index.js';
import { byteSizeOf, type DType, elementCount, type Tensor } from '../model/tensor.js';
import {
  DTYPE_TO_GGML,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_ALIGNMENT,
  GGUF_MAX_DIMS,
  type GgufValue,
  GgufValueType,
} from './gguf-types.js';

const utf8 = new TextEncoder();

/** A growable little-endian byte buffer. */
class ByteWriter {
  #bytes = new Uint8Array(4096);
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  #reserve(count: number): void {
    if (this.length + count <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.length + count) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.#reserve(1);
    this.#view.setUint8(this.length, v);
    this.length += 1;
  }
  i8(v: number): void {
    this.#reserve(1);
    this.#view.setInt8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.length, v, true);
    this.length += 2;
  }
  i16(v: number): void {
    this.#reserve(2);
    this.#view.setInt16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.#reserve(4);
    this.#view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.#reserve(4);
    this.#view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  u64(v: bigint | number): void {
    this.#reserve(8);
    this.#view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  i64(v: bigint): void {
    this.#reserve(8);
    this.#view.setBigInt64(this.length, v, true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#bytes.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = utf8.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.#reserve(pad);
    this.#bytes.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  result(): Uint8Array {
    return this.#bytes.slice(0, this.length);
  }
}

const INT_RANGES: Record<number, [number, number]> = {
  0: [0, 0xff],
  1: [-0x80, 0x7f],
  2: [0, 0xffff],
  3: [-0x8000, 0x7fff],
  4: [0, 0xffffffff],
  5: [-0x80000000, 0x7fffffff],
};

function bad(field: string, message: string, value?: unknown): never {
  throw new InvalidArgumentError(message, { field, value });
}

function writeScalar(w: ByteWriter, type: number, value: unknown, field: string): void {
  const range = INT_RANGES[type];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      bad(field, `value ${String(value)} does not fit value type ${type}`, value);
    }
  }
  switch (type) {
    case GgufValueType.uint8:
      w.u8(value as number);
      return;
    case GgufValueType.int8:
      w.i8(value as number);
      return;
    case GgufValueType.uint16:
      w.u16(value as number);
      return;
    case GgufValueType.int16:
      w.i16(value as number);
      return;
    case GgufValueType.uint32:
      w.u32(value as number);
      return;
    case GgufValueType.int32:
      w.i32(value as number);
      return;
    case GgufValueType.float32:
    case GgufValueType.float64:
      if (typeof value !== 'number') bad(field, 'float value must be a number', value);
      if (type === GgufValueType.float32) w.f32(value);
      else w.f64(value);
      return;
    case GgufValueType.uint64:
      if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n)
        bad(field, 'uint64 value must be a bigint in range', value);
      w.u64(value);
      return;
    case GgufValueType.int64:
      if (typeof value !== 'bigint' || value < -(1n << 63n) || value >= 1n << 63n)
        bad(field, 'int64 value must be a bigint in range', value);
      w.i64(value);
      return;
    case GgufValueType.bool:
      if (typeof value !== 'boolean') bad(field, 'bool value must be a boolean', value);
      w.u8(value ? 1 : 0);
      return;
    case GgufValueType.string:
      if (typeof value !== 'string') bad(field, 'string value must be a string', value);
      w.string(value);
      return;
    default:
      bad(field, `unknown value type ${type}`, type);
  }
}

/** Writes an array body: item type, count, items. */
function writeArray(w: ByteWriter, itemType: number, items: readonly unknown[], field: string): void {
  w.u32(itemType);
  w.u64(items.length);
  if (itemType === GgufValueType.array) {
    items.forEach((item, i) => {
      const v = item as GgufValue;
      if (v?.type !== GgufValueType.array) bad(`${field}[${i}]`, 'items of an array of arrays must be arrays');
      writeArray(w, v.itemType, v.value as readonly unknown[], `${field}[${i}]`);
    });
    return;
  }
  for (let i = 0; i < items.length; i++) writeScalar(w, itemType, items[i], `${field}[${i}]`);
}

function writeValue(w: ByteWriter, value: GgufValue, field: string): void {
  w.u32(value.type);
  if (value.type === GgufValueType.array) {
    if (!Array.isArray(value.value)) bad(field, 'array value must be an array');
    writeArray(w, value.itemType, value.value, field);
  } else {
    writeScalar(w, value.type, value.value, field);
  }
}

/** Shape and encoding of a tensor to write; data comes separately (see writeGgufFile for streaming). */
export interface GgufTensorPlan {
  name: string;
  shape: readonly number[];
  dtype: DType;
}

/** A tensor to write whose bytes are produced on demand (so a big model never sits in memory whole). */
export interface GgufTensorSource extends GgufTensorPlan {
  read(): Uint8Array | Promise<Uint8Array>;
}

export interface GgufLayout {
  /** Header, metadata, tensor infos and padding up to the data section. */
  header: Uint8Array;
  alignment: number;
  /** Absolute offset of each tensor's data, in the order given. */
  offsets: number[];
  byteSizes: number[];
  /** Total file size, including padding after the last tensor (llama.cpp reads it). */
  totalSize: number;
}

function resolveAlignment(
  metadata: ReadonlyMap<string, GgufValue>,
  alignment: number | undefined,
): Map<string, GgufValue> {
  const meta = new Map(metadata);
  const present = meta.get('general.alignment');
  const a = alignment ?? (present?.type === GgufValueType.uint32 ? present.value : GGUF_DEFAULT_ALIGNMENT);
  if (!(Number.isInteger(a) && a > 0 && a <= GGUF_MAX_ALIGNMENT && (a & (a - 1)) === 0)) {
    bad('alignment', `must be a power of two no larger than ${GGUF_MAX_ALIGNMENT}`, a);
  }
  if (present !== undefined && (present.type !== GgufValueType.uint32 || present.value !== a)) {
    bad('general.alignment', `metadata says ${String(present.value)}, the alignment option says ${a}`);
  }
  if (a !== GGUF_DEFAULT_ALIGNMENT && present === undefined)
    meta.set('general.alignment', { type: GgufValueType.uint32, value: a });
  return meta;
}

/**
 * Lays out a GGUF v3 file: encodes the header (magic, version, counts, metadata, tensor infos) and computes where
 * each tensor's data goes. Tensor data is padded to the alignment, the last tensor included.
 */
export function planGguf(
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensorPlan[],
  alignment?: number,
): GgufLayout & { metadata: Map<string, GgufValue> } {
  const meta = resolveAlignment(metadata, alignment);
  const align = (meta.get('general.alignment')?.value as number | undefined) ?? GGUF_DEFAULT_ALIGNMENT;
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(3);
  w.u64(tensors.length);
  w.u64(meta.size);
  for (const [key, value] of meta) {
    if (key.length === 0) bad('metadata', 'metadata keys must not be empty');
    w.string(key);
    writeValue(w, value, key);
  }
  const names = new Set<string>();
  const relative: number[] = [];
  const byteSizes: number[] = [];
  let cursor = 0;
  for (const t of tensors) {
    if (names.has(t.name)) bad(t.name, 'duplicate tensor name');
    names.add(t.name);
    if (utf8.encode(t.name).length >= GGML_MAX_NAME)
      bad(t.name, `tensor names must be shorter than ${GGML_MAX_NAME} bytes`);
    if (t.shape.length < 1 || t.shape.length > GGUF_MAX_DIMS)
      bad(t.name, `tensors need 1..${GGUF_MAX_DIMS} dimensions`);
    if (!t.shape.every((d) => Number.isInteger(d) && d > 0)) bad(t.name, `invalid shape [${t.shape.join(', ')}]`);
    const ggml = DTYPE_TO_GGML[t.dtype];
    if (ggml === undefined) bad(t.name, `unknown dtype ${String(t.dtype)}`);
    const size = byteSizeOf(t.dtype, elementCount(t.shape), t.name);
    const ne = [...t.shape].reverse();
    if (t.dtype !== 'f32' && t.dtype !== 'f16' && ne[0] % (t.dtype === 'q4_K' ? 256 : 32) !== 0) {
      bad(t.name, `row size ${ne[0]} is not a multiple of the ${t.dtype} block size`);
    }
    w.string(t.name);
    w.u32(ne.length);
    for (const d of ne) w.u64(d);
    w.u32(ggml);
    w.u64(cursor);
    relative.push(cursor);
    byteSizes.push(size);
    cursor += Math.ceil(size / align) * align;
  }
  w.padTo(align);
  const header = w.result();
  return {
    header,
    alignment: align,
    offsets: relative.map((r) => header.length + r),
    byteSizes,
    totalSize: header.length + cursor,
    metadata: meta,
  };
}

export interface WriteGgufOptions {
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: readonly Tensor[];
  /** Tensor data alignment; default `general.alignment` from the metadata, else 32. */
  alignment?: number;
}

/** Writes a whole GGUF v3 file into memory. For big models use `writeGgufFile` from `@slmkit/core/node`. */
export function writeGguf(options: WriteGgufOptions): Uint8Array {
  const layout = planGguf(options.metadata, options.tensors, options.alignment);
  const out = new Uint8Array(layout.totalSize);
  out.set(layout.header, 0);
  options.tensors.forEach((t, i) => {
    if (t.data.byteLength !== layout.byteSizes[i]) {
      bad(
        t.name,
        `holds ${t.data.byteLength} bytes, shape [${t.shape.join(', ')}] ${t.dtype} needs ${layout.byteSizes[i]}`,
      );
    }
    out.set(t.data, layout.offsets[i]);
  });
  return out;
}
