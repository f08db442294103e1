import { ModelFormatError } from '../errors/index.js';

// ignoreBOM: a token may be U+FEFF itself (llama.cpp vocabularies hold one); it must not be dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A little-endian cursor over bytes that checks every read against the end of the buffer and names the field
 * being read in its ModelFormatError, so truncated or corrupt files fail with a clear message instead of garbage.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly file?: string;
  /** Offset of `bytes[0]` in the file, for error messages when reading a slice. */
  readonly baseOffset: number;
  offset = 0;

  constructor(bytes: Uint8Array, file?: string, baseOffset = 0) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.file = file;
    this.baseOffset = baseOffset;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  fail(message: string, field: string, offset = this.offset): never {
    throw new ModelFormatError(message, { file: this.file, field, offset: this.baseOffset + offset });
  }

  /** Throws unless `count` more bytes exist. */
  need(count: number, field: string): void {
    if (!Number.isFinite(count) || count < 0) this.fail(`invalid length ${count}`, field);
    if (count > this.remaining) {
      this.fail(`file is truncated: ${field} needs ${count} bytes, ${this.remaining} remain`, field);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.offset++);
  }
  i8(field: string): number {
    this.need(1, field);
    return this.view.getInt8(this.offset++);
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }
  i16(field: string): number {
    this.need(2, field);
    const v = this.view.getInt16(this.offset, true);
    this.offset += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  i32(field: string): number {
    this.need(4, field);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f32(field: string): number {
    this.need(4, field);
    const v = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f64(field: string): number {
    this.need(8, field);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }
  /** A uint64 as a bigint. */
  u64Big(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }
  i64Big(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return v;
  }
  /** A uint64 that must fit in a safe integer no larger than `max`. */
  u64(field: string, max = Number.MAX_SAFE_INTEGER): number {
    const start = this.offset;
    const v = this.u64Big(field);
    if (v > BigInt(max)) this.fail(`value ${v} exceeds the limit of ${max}`, field, start);
    return Number(v);
  }

  /** A view (no copy) of the next `count` bytes. */
  bytesView(count: number, field: string): Uint8Array {
    this.need(count, field);
    const v = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return v;
  }

  /** `count` bytes decoded as UTF-8; invalid UTF-8 is an error. */
  utf8(count: number, field: string): string {
    const start = this.offset;
    const raw = this.bytesView(count, field);
    try {
      return utf8.decode(raw);
    } catch {
      this.fail('is not valid UTF-8', field, start);
    }
  }

  skip(count: number, field: string): void {
    this.need(count, field);
    this.offset += count;
  }
}
