import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, SlmError, UnsupportedFeatureError } from '../errors/index.js';
import { encodeTensor, float32Tensor, tensorToFloat32 } from '../model/tensor.js';
import { SHARED_MISSING_REASON, sharedPath } from '../testing/shared-data.js';
import { readGguf } from './gguf-reader.js';
import { type GgufValue, GgufValueType } from './gguf-types.js';
import { writeGguf } from './gguf-writer.js';

const T = GgufValueType;

function sampleMetadata(): Map<string, GgufValue> {
  return new Map<string, GgufValue>([
    ['general.architecture', { type: T.string, value: 'llama' }],
    ['u8', { type: T.uint8, value: 255 }],
    ['i8', { type: T.int8, value: -128 }],
    ['u16', { type: T.uint16, value: 65535 }],
    ['i16', { type: T.int16, value: -32768 }],
    ['u32', { type: T.uint32, value: 4294967295 }],
    ['i32', { type: T.int32, value: -2147483648 }],
    ['f32', { type: T.float32, value: Math.fround(0.1) }],
    ['f64', { type: T.float64, value: 0.1 }],
    ['u64', { type: T.uint64, value: 18446744073709551615n }],
    ['i64', { type: T.int64, value: -9223372036854775808n }],
    ['bool', { type: T.bool, value: true }],
    ['str', { type: T.string, value: 'héllo ▁ 😀' }],
    ['arr.str', { type: T.array, itemType: T.string, value: ['a', '', '<0x0A>'] }],
    ['arr.f32', { type: T.array, itemType: T.float32, value: [0, -1.5, 2.25] }],
    ['arr.i32', { type: T.array, itemType: T.int32, value: [1, -2, 3] }],
    ['arr.u64', { type: T.array, itemType: T.uint64, value: [1n, 2n] }],
    ['arr.bool', { type: T.array, itemType: T.bool, value: [true, false] }],
    ['arr.empty', { type: T.array, itemType: T.uint8, value: [] }],
    [
      'arr.nested',
      {
        type: T.array,
        itemType: T.array,
        value: [
          { type: T.array, itemType: T.int16, value: [1, 2] },
          { type: T.array, itemType: T.string, value: ['x'] },
        ],
      },
    ],
  ]);
}

function sampleTensors() {
  const values = new Float32Array(64).map((_, i) => Math.sin(i) * 3);
  return [
    float32Tensor('a.f32', [2, 32], values),
    encodeTensor('b.f16', [64], values, 'f16'),
    encodeTensor('c.q8_0', [2, 32], values, 'q8_0'),
    encodeTensor('d.q4_0', [64], values, 'q4_0'),
  ];
}

describe('GGUF reader and writer', () => {
  it('round-trips every metadata value type and tensor type byte-for-byte', () => {
    const metadata = sampleMetadata();
    const tensors = sampleTensors();
    const bytes = writeGguf({ metadata, tensors });
    const file = readGguf(bytes, 'mem.gguf');
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(32);
    expect(file.dataOffset % 32).toBe(0);
    expect([...file.metadata.keys()]).toEqual([...metadata.keys()]);
    for (const [key, value] of metadata) expect(file.metadata.get(key), key).toEqual(value);
    for (const t of tensors) {
      const back = file.readTensor(t.name);
      expect(back.shape).toEqual(t.shape);
      expect(back.dtype).toBe(t.dtype);
      expect(Buffer.from(back.data).equals(Buffer.from(t.data))).toBe(true);
      // zero-copy: a view into the file bytes
      expect(back.data.buffer).toBe(bytes.buffer);
    }
    // writing what was read gives the same bytes
    const again = writeGguf({
      metadata: new Map(file.metadata),
      tensors: tensors.map((t) => file.readTensor(t.name) as never),
    });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('reports shapes outermost first and absolute aligned offsets', () => {
    const bytes = writeGguf({ metadata: new Map(), tensors: sampleTensors(), alignment: 64 });
    const file = readGguf(bytes);
    expect(file.alignment).toBe(64);
    expect(file.metadata.get('general.alignment')).toEqual({ type: T.uint32, value: 64 });
    const a = file.tensors.find((t) => t.name === 'a.f32');
    expect(a).toMatchObject({ shape: [2, 32], ggmlType: 0, dtype: 'f32', byteSize: 256 });
    // ggml stores ne innermost first: the first dim written is 32
    const view = new DataView(bytes.buffer);
    for (const t of file.tensors) expect(t.offset % 64).toBe(0);
    expect(view.getUint32(0, true)).toBe(0x46554747);
    expect(Array.from(tensorToFloat32(file.readTensor('a.f32') as never)).slice(0, 3)).toEqual(
      Array.from(new Float32Array([0, Math.sin(1) * 3, Math.sin(2) * 3])),
    );
  });

  const failsWith = (bytes: Uint8Array, pattern: RegExp) => {
    let error: unknown;
    try {
      readGguf(bytes, 'bad.gguf');
    } catch (e) {
      error = e;
    }
    expect(ModelFormatError.isInstance(error), String(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(pattern);
    return error as ModelFormatError;
  };

  it('rejects bad magic, versions and truncation with the offset and field', () => {
    const bytes = writeGguf({ metadata: sampleMetadata(), tensors: sampleTensors() });
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    expect(failsWith(badMagic, /bad magic/).offset).toBe(0);
    const v1 = bytes.slice();
    v1[4] = 1;
    expect(failsWith(v1, /version 1/).field).toBe('version');
    const v9 = bytes.slice();
    v9[4] = 9;
    failsWith(v9, /unknown GGUF version/);
    const cut = readGguf(bytes).dataOffset - 60;
    const truncated = failsWith(bytes.subarray(0, cut), /truncated/);
    expect(truncated.file).toBe('bad.gguf');
    expect(truncated.offset).toBeLessThanOrEqual(cut);
    failsWith(bytes.subarray(0, bytes.length - 40), /outside the file/);
  });

  it('checks declared counts and lengths before allocating', () => {
    const bytes = writeGguf({ metadata: new Map([['k', { type: T.string, value: 'v' }]]), tensors: [] });
    const view = new DataView(bytes.buffer);
    const hugeKv = bytes.slice();
    new DataView(hugeKv.buffer).setBigUint64(16, 1n << 40n, true);
    failsWith(hugeKv, /metadata entries exceed the limit/);
    new DataView(hugeKv.buffer).setBigUint64(16, 40_000n, true);
    failsWith(hugeKv, /metadata entries cannot fit/);
    const hugeTensors = bytes.slice();
    new DataView(hugeTensors.buffer).setBigUint64(8, 1n << 50n, true);
    failsWith(hugeTensors, /tensors exceed the limit/);
    new DataView(hugeTensors.buffer).setBigUint64(8, 40_000n, true);
    failsWith(hugeTensors, /tensors cannot fit/);
    const hugeKey = bytes.slice();
    new DataView(hugeKey.buffer).setBigUint64(24, 1n << 52n, true);
    expect(failsWith(hugeKey, /string length/).offset).toBe(24);
    expect(view.getUint32(0, true)).toBe(0x46554747);
    // an array claiming 2^40 items
    const arr = writeGguf({
      metadata: new Map([['a', { type: T.array, itemType: T.uint32, value: [1] }]]),
      tensors: [],
    });
    new DataView(arr.buffer).setBigUint64(24 + 8 + 1 + 4 + 4, 1n << 40n, true);
    failsWith(arr, /array of 1099511627776 items/);
    // 2^25 one-byte items fit in a 32 MiB file but exceed the per-array item limit
    const many = writeGguf({
      metadata: new Map([['a', { type: T.array, itemType: T.uint8, value: [1] }]]),
      tensors: [],
    });
    const big = new Uint8Array(many.length + (1 << 25));
    big.set(many);
    new DataView(big.buffer).setBigUint64(24 + 8 + 1 + 4 + 4, 1n << 25n, true);
    failsWith(big, /exceeds the limit of 16777216/);
  });

  it('rejects unknown types, bad alignment, bad dims and misaligned tensor offsets', () => {
    const meta = new Map([['k', { type: T.uint32, value: 7 } as GgufValue]]);
    const bytes = writeGguf({ metadata: meta, tensors: [float32Tensor('t', [4], new Float32Array(4))] });
    // value type lives after magic(4) version(4) counts(16) key(8+1)
    const badType = bytes.slice();
    badType[33] = 99;
    failsWith(badType, /unknown value type 99/);
    const align = writeGguf({ metadata: new Map([['general.alignment', { type: T.uint32, value: 32 }]]), tensors: [] });
    const keyEnd = 24 + 8 + 'general.alignment'.length + 4;
    for (const a of [0, 3, 1 << 21]) {
      const copy = align.slice();
      new DataView(copy.buffer).setUint32(keyEnd, a, true);
      failsWith(copy, /power of two/);
    }
    // tensor info: after kv (key 8+1, type 4, value 4) at 41: name 8+1, n_dims, ne, type, offset
    const info = 41 + 9;
    const dims = bytes.slice();
    new DataView(dims.buffer).setUint32(info, 5, true);
    expect(failsWith(dims, /n_dims 5/).field).toBe('t.n_dims');
    const ggml = bytes.slice();
    new DataView(ggml.buffer).setUint32(info + 4 + 8, 4, true);
    failsWith(ggml, /unknown ggml type 4/);
    const q = bytes.slice();
    new DataView(q.buffer).setUint32(info + 4 + 8, 8, true); // q8_0 with a row of 4
    failsWith(q, /not a multiple of the Q8_0 block size/);
    const off = bytes.slice();
    new DataView(off.buffer).setBigUint64(info + 4 + 8 + 4, 3n, true);
    failsWith(off, /not a multiple of the alignment/);
    const overflow = bytes.slice();
    new DataView(overflow.buffer).setBigUint64(info + 4, 1n << 45n, true);
    failsWith(overflow, /exceeds the limit/);
  });

  it('reports ggml types core cannot decode as UnsupportedFeatureError', () => {
    const bytes = writeGguf({ metadata: new Map(), tensors: [float32Tensor('t', [256], new Float32Array(256))] });
    new DataView(bytes.buffer).setUint32(24 + 9 + 4 + 8, 14, true); // Q6_K: 256 elements = 210 bytes, fits in 1024
    const file = readGguf(bytes);
    expect(file.tensors[0]).toMatchObject({ ggmlType: 14, dtype: undefined, byteSize: 210 });
    expect(() => file.readTensor('t')).toThrow(UnsupportedFeatureError);
    expect(() => file.readTensor('missing')).toThrow(/not in the file/);
  });
});

const vocabDir = sharedPath('vocab');
describe.skipIf(!vocabDir)(`GGUF reader on llama.cpp's files ${vocabDir ? '' : SHARED_MISSING_REASON}`, () => {
  for (const name of ['llama-spm', 'gpt-2', 'bert-bge']) {
    it(`reads and re-writes ggml-vocab-${name}.gguf byte-identically`, () => {
      const bytes = new Uint8Array(readFileSync(`${vocabDir}/ggml-vocab-${name}.gguf`));
      const file = readGguf(bytes, name);
      expect(file.metadata.get('tokenizer.ggml.tokens')?.type).toBe(T.array);
      expect(SlmError.isInstance(file)).toBe(false);
      const again = writeGguf({
        metadata: new Map(file.metadata),
        tensors: file.tensors.map((t) => file.readTensor(t.name) as never),
        alignment: file.alignment,
      });
      // llama.cpp's vocab files end at the metadata; ours pad to the (empty) data section
      expect(Buffer.from(again.subarray(0, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
      expect(again.subarray(bytes.length).every((b) => b === 0)).toBe(true);
    });
  }
});
