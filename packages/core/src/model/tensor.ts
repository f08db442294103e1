import { InvalidArgumentError, ModelFormatError } from '../errors/index.js';
import { floatToHalf, halfToFloat } from './half-float.js';

/**
 * Element types a tensor may hold. The block-quantised types use ggml's layouts:
 * - `q8_0`: blocks of 32 values: f16 scale, 32 x int8 (34 bytes).
 * - `q4_0`: blocks of 32 values: f16 scale, 16 bytes of 4-bit values offset by 8 (18 bytes).
 * - `q4_K`: super-blocks of 256 values (144 bytes), read-only.
 */
export type DType = 'f32' | 'f16' | 'q8_0' | 'q4_0' | 'q4_K';

/** A named tensor over raw bytes. `shape` is row-major, outermost first (PyTorch order: [out, in] for a weight). */
export interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The encoded bytes; a view into the file buffer where the source allows (zero-copy). */
  readonly data: Uint8Array;
}

interface DTypeLayout {
  blockSize: number;
  bytesPerBlock: number;
}

const LAYOUTS: Record<DType, DTypeLayout> = {
  f32: { blockSize: 1, bytesPerBlock: 4 },
  f16: { blockSize: 1, bytesPerBlock: 2 },
  q8_0: { blockSize: 32, bytesPerBlock: 34 },
  q4_0: { blockSize: 32, bytesPerBlock: 18 },
  q4_K: { blockSize: 256, bytesPerBlock: 144 },
};

export function dtypeLayout(dtype: DType): DTypeLayout {
  return LAYOUTS[dtype];
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes needed for `count` elements; throws when `count` does not fill whole blocks. */
export function byteSizeOf(dtype: DType, count: number, name = 'tensor'): number {
  const layout = LAYOUTS[dtype];
  if (count % layout.blockSize !== 0) {
    throw new ModelFormatError(`${count} elements are not a whole number of ${dtype} blocks of ${layout.blockSize}`, {
      field: name,
    });
  }
  return (count / layout.blockSize) * layout.bytesPerBlock;
}

export function createTensor(name: string, shape: readonly number[], dtype: DType, data: Uint8Array): Tensor {
  const expected = byteSizeOf(dtype, elementCount(shape), name);
  if (data.byteLength !== expected) {
    throw new ModelFormatError(
      `holds ${data.byteLength} bytes, shape [${shape.join(', ')}] ${dtype} needs ${expected}`,
      {
        field: name,
      },
    );
  }
  return { name, shape: [...shape], dtype, data };
}

export function float32Tensor(name: string, shape: readonly number[], values: Float32Array): Tensor {
  return createTensor(name, shape, 'f32', new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

function readHalf(bytes: Uint8Array, offset: number): number {
  return halfToFloat(bytes[offset] | (bytes[offset + 1] << 8));
}

function writeHalf(bytes: Uint8Array, offset: number, value: number): void {
  const h = floatToHalf(value);
  bytes[offset] = h & 0xff;
  bytes[offset + 1] = h >> 8;
}

function dequantizeQ8_0(src: Uint8Array, out: Float32Array): void {
  const blocks = out.length / 32;
  for (let b = 0; b < blocks; b++) {
    const base = b * 34;
    const d = readHalf(src, base);
    for (let j = 0; j < 32; j++) {
      const q = src[base + 2 + j];
      out[b * 32 + j] = (q > 127 ? q - 256 : q) * d;
    }
  }
}

function dequantizeQ4_0(src: Uint8Array, out: Float32Array): void {
  const blocks = out.length / 32;
  for (let b = 0; b < blocks; b++) {
    const base = b * 18;
    const d = readHalf(src, base);
    for (let j = 0; j < 16; j++) {
      const q = src[base + 2 + j];
      out[b * 32 + j] = ((q & 0x0f) - 8) * d;
      out[b * 32 + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

function scaleMinK4(j: number, q: Uint8Array, base: number): [number, number] {
  if (j < 4) return [q[base + j] & 63, q[base + j + 4] & 63];
  const sc = (q[base + j + 4] & 0x0f) | ((q[base + j - 4] >> 6) << 4);
  const m = (q[base + j + 4] >> 4) | ((q[base + j] >> 6) << 4);
  return [sc, m];
}

function dequantizeQ4K(src: Uint8Array, out: Float32Array): void {
  const blocks = out.length / 256;
  for (let b = 0; b < blocks; b++) {
    const base = b * 144;
    const d = readHalf(src, base);
    const dmin = readHalf(src, base + 2);
    const scales = base + 4;
    let qs = base + 16;
    let o = b * 256;
    for (let j = 0, is = 0; j < 256; j += 64, is += 2) {
      const [sc1, m1] = scaleMinK4(is, src, scales);
      const [sc2, m2] = scaleMinK4(is + 1, src, scales);
      const d1 = d * sc1;
      const min1 = dmin * m1;
      const d2 = d * sc2;
      const min2 = dmin * m2;
      for (let l = 0; l < 32; l++) out[o + l] = d1 * (src[qs + l] & 0x0f) - min1;
      for (let l = 0; l < 32; l++) out[o + 32 + l] = d2 * (src[qs + l] >> 4) - min2;
      qs += 32;
      o += 64;
    }
  }
}

/**
 * The tensor's values as float32. For an f32 tensor whose bytes are 4-byte aligned this is a zero-copy view;
 * everything else is decoded into a new array.
 */
export function tensorToFloat32(tensor: Tensor): Float32Array {
  const count = elementCount(tensor.shape);
  const { data } = tensor;
  if (tensor.dtype === 'f32') {
    if (data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, count);
    return new Float32Array(data.slice().buffer, 0, count);
  }
  const out = new Float32Array(count);
  switch (tensor.dtype) {
    case 'f16':
      for (let i = 0; i < count; i++) out[i] = readHalf(data, i * 2);
      return out;
    case 'q8_0':
      dequantizeQ8_0(data, out);
      return out;
    case 'q4_0':
      dequantizeQ4_0(data, out);
      return out;
    case 'q4_K':
      dequantizeQ4K(data, out);
      return out;
  }
}

function quantizeQ8_0(values: Float32Array, out: Uint8Array): void {
  const blocks = values.length / 32;
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]));
    const d = amax / 127;
    const id = d !== 0 ? 1 / d : 0;
    const base = b * 34;
    writeHalf(out, base, d);
    for (let j = 0; j < 32; j++) {
      const x = values[b * 32 + j] * id;
      // ggml uses roundf: half away from zero
      const q = x < 0 ? -Math.round(-x) : Math.round(x);
      out[base + 2 + j] = q & 0xff;
    }
  }
}

function quantizeQ4_0(values: Float32Array, out: Uint8Array): void {
  const blocks = values.length / 32;
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = values[b * 32 + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d !== 0 ? 1 / d : 0;
    const base = b * 18;
    writeHalf(out, base, d);
    for (let j = 0; j < 16; j++) {
      const x0 = Math.min(15, Math.trunc(values[b * 32 + j] * id + 8.5));
      const x1 = Math.min(15, Math.trunc(values[b * 32 + j + 16] * id + 8.5));
      out[base + 2 + j] = x0 | (x1 << 4);
    }
  }
}

/** Encodes float32 values as `dtype` (f32, f16, q8_0 or q4_0). */
export function encodeTensor(name: string, shape: readonly number[], values: Float32Array, dtype: DType): Tensor {
  const count = elementCount(shape);
  if (values.length !== count) {
    throw new InvalidArgumentError(`has ${values.length} values for shape [${shape.join(', ')}]`, { field: name });
  }
  const out = new Uint8Array(byteSizeOf(dtype, count, name));
  switch (dtype) {
    case 'f32':
      out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      break;
    case 'f16':
      for (let i = 0; i < count; i++) writeHalf(out, i * 2, values[i]);
      break;
    case 'q8_0':
      quantizeQ8_0(values, out);
      break;
    case 'q4_0':
      quantizeQ4_0(values, out);
      break;
    case 'q4_K':
      throw new InvalidArgumentError('q4_K encoding is not supported; use q4_0 or q8_0', { field: name });
  }
  return { name, shape: [...shape], dtype, data: out };
}

/** Re-encodes a tensor in another dtype (through float32). */
export function convertTensor(tensor: Tensor, dtype: DType): Tensor {
  if (tensor.dtype === dtype) return tensor;
  return encodeTensor(tensor.name, tensor.shape, tensorToFloat32(tensor), dtype);
}
