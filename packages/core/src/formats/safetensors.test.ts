import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { encodeTensor, float32Tensor, tensorToFloat32 } from '../model/tensor.js';
import { readSafetensors, SAFETENSORS_MAX_HEADER_BYTES, writeSafetensors } from './safetensors.js';

const values = new Float32Array(12).map((_, i) => i / 4 - 1);

/** A safetensors file built by hand from a header object (independent of writeSafetensors). */
function handMade(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 and F16 tensors and __metadata__, with an 8-byte aligned data section', () => {
    const a = float32Tensor('a', [3, 4], values);
    const b = encodeTensor('b', [12], values, 'f16');
    const bytes = writeSafetensors({ tensors: [a, b], metadata: { format: 'pt' } });
    const file = readSafetensors(bytes, 'x.safetensors');
    expect(file.dataOffset % 8).toBe(0);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['a', 'F32', [3, 4]],
      ['b', 'F16', [12]],
    ]);
    expect(tensorToFloat32(file.readTensor('a'))).toEqual(values);
    expect(Buffer.from(file.readTensor('b').data).equals(Buffer.from(b.data))).toBe(true);
    expect(file.readTensor('a').data.buffer).toBe(bytes.buffer);
  });

  it('reads a hand-made file with BF16 widened to F32 and writes quantised tensors as F32', () => {
    // bf16 of 1.0 is 0x3f80, of -2.5 is 0xc020
    const data = new Uint8Array([0x80, 0x3f, 0x20, 0xc0]);
    const file = readSafetensors(handMade({ w: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, data));
    expect(Array.from(tensorToFloat32(file.readTensor('w')))).toEqual([1, -2.5]);
    const q = encodeTensor('q', [32], new Float32Array(32).fill(0.5), 'q8_0');
    const back = readSafetensors(writeSafetensors({ tensors: [q] }));
    expect(back.tensors[0].dtype).toBe('F32');
    expect(tensorToFloat32(back.readTensor('q'))).toEqual(tensorToFloat32(q));
  });

  const rejects = (bytes: Uint8Array, pattern: RegExp, field?: string) => {
    let error: unknown;
    try {
      readSafetensors(bytes, 'bad.safetensors');
    } catch (e) {
      error = e;
    }
    expect(ModelFormatError.isInstance(error), String(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    if (field) expect((error as ModelFormatError).field).toBe(field);
  };

  it('rejects hostile headers with typed errors', () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, BigInt(SAFETENSORS_MAX_HEADER_BYTES) + 1n, true);
    rejects(huge, /exceeds/, 'header length');
    const past = new Uint8Array(16);
    new DataView(past.buffer).setBigUint64(0, 100n, true);
    rejects(past, /past the end/, 'header length');
    rejects(new Uint8Array(4), /too short/);
    rejects(handMade({}, new Uint8Array()).subarray(0, 9), /past the end/);
    const notJson = handMade({}, new Uint8Array());
    notJson[8] = 0x5b; // '['
    rejects(notJson, /JSON/);
    rejects(
      handMade({ w: { dtype: 'F99', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /unknown dtype/,
      'w.dtype',
    );
    rejects(
      handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /non-negative/,
      'w.shape',
    );
    rejects(
      handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /needs 8/,
      'w.data_offsets',
    );
    rejects(
      handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)),
      /outside/,
      'w.data_offsets',
    );
    rejects(handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)), /\[begin, end\]/);
    rejects(
      handMade(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        new Uint8Array(8),
      ),
      /overlaps/,
      'b',
    );
    rejects(handMade({ __metadata__: { n: 1 } }, new Uint8Array()), /strings/, '__metadata__.n');
    rejects(
      handMade({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 20], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /overflow|needs/,
    );
  });

  it('reports dtypes it cannot decode as UnsupportedFeatureError', () => {
    const file = readSafetensors(
      handMade({ i: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
    );
    expect(() => file.readTensor('i')).toThrow(UnsupportedFeatureError);
    expect(() => file.readTensor('missing')).toThrow(ModelFormatError);
  });
});
