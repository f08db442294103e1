import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { createRandomModel } from '../testing/random-model.js';
import { SHARED_MISSING_REASON, stories260KPaths } from '../testing/shared-data.js';
import { readLlama2cCheckpoint } from './llama2c.js';
import {
  LLAMA2C_MAGIC,
  readAnyLlama2cCheckpoint,
  readLlama2cVersioned,
  writeLlama2cCheckpoint,
} from './llama2c-versioned.js';

describe('llama2.c versioned export (ak42) and writer', () => {
  const model = createRandomModel({ tiedEmbeddings: false, seed: 11 });

  it('lays out the 256-byte version 1 header as export.py does', () => {
    const bytes = writeLlama2cCheckpoint(model, { version: 1 });
    const v = new DataView(bytes.buffer);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('24ka'); // uint32 0x616b3432, little-endian
    expect(v.getUint32(0, true)).toBe(LLAMA2C_MAGIC);
    expect(v.getInt32(4, true)).toBe(1);
    expect([8, 12, 16, 20, 24, 28, 32].map((o) => v.getInt32(o, true))).toEqual([32, 96, 2, 4, 2, 300, 128]);
    expect(bytes[36]).toBe(0); // not shared
    expect(bytes.subarray(37, 256).every((b) => b === 0)).toBe(true);
    // the first float after the header is the first attention-norm weight
    expect(v.getFloat32(256, true)).toBe(model.weights.float32('blk.0.attn_norm.weight')[0]);
  });

  for (const version of [0, 1] as const) {
    it(`round-trips float32 weights exactly through version ${version}`, () => {
      const back = readAnyLlama2cCheckpoint(writeLlama2cCheckpoint(model, { version }), 'm.bin');
      expect(back.spec.tiedEmbeddings).toBe(false);
      for (const t of model.weights)
        expect(back.weights.float32(t.name), t.name).toEqual(model.weights.float32(t.name));
    });
  }

  it('round-trips version 2 (int8 groups) within half a quantisation step', () => {
    const tied = createRandomModel({ seed: 12 });
    const bytes = writeLlama2cCheckpoint(tied, { version: 2 });
    expect(new DataView(bytes.buffer).getInt32(37, true)).toBe(32); // 64 halved to divide dim 32
    const back = readLlama2cVersioned(bytes);
    expect(back.spec.tiedEmbeddings).toBe(true);
    expect(back.weights.float32('blk.1.ffn_norm.weight')).toEqual(tied.weights.float32('blk.1.ffn_norm.weight'));
    const a = tied.weights.float32('blk.1.attn_v.weight');
    const b = back.weights.float32('blk.1.attn_v.weight');
    let maxAbs = 0;
    for (const x of a) maxAbs = Math.max(maxAbs, Math.abs(x));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(maxAbs / 254 + 1e-7);
  });

  it('rejects truncation, unknown versions and bad flags with typed errors', () => {
    const bytes = writeLlama2cCheckpoint(model, { version: 1 });
    expect(() => readLlama2cVersioned(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => readLlama2cVersioned(bytes.subarray(0, 100))).toThrow(ModelFormatError);
    const v9 = bytes.slice();
    v9[4] = 9;
    expect(() => readLlama2cVersioned(v9)).toThrow(UnsupportedFeatureError);
    const flag = bytes.slice();
    flag[36] = 7;
    expect(() => readLlama2cVersioned(flag)).toThrow(/shared_classifier/);
    const dims = bytes.slice();
    new DataView(dims.buffer).setInt32(8, -1, true);
    expect(() => readLlama2cVersioned(dims)).toThrow(/outside/);
  });

  it('refuses models llama2.c cannot represent', () => {
    expect(() => writeLlama2cCheckpoint({ ...model, spec: { ...model.spec, ropeTheta: 500_000 } })).toThrow(/theta/);
  });
});

const paths = stories260KPaths();
describe.skipIf(!paths)(`writeLlama2cCheckpoint on stories260K ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  it('reproduces the original (externally written) file byte for byte, except the unused RoPE tables', () => {
    const original = new Uint8Array(readFileSync(paths!.model));
    const written = writeLlama2cCheckpoint(readLlama2cCheckpoint(original, 'stories260K.bin'));
    expect(written.length).toBe(original.length);
    const ropeBytes = 512 * 8 * 4;
    expect(
      Buffer.from(written.subarray(0, written.length - ropeBytes)).equals(
        Buffer.from(original.subarray(0, original.length - ropeBytes)),
      ),
    ).toBe(true);
  });
});
