import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, SlmError } from '../errors/index.js';
import { SHARED_MISSING_REASON, stories260KPaths } from '../testing/shared-data.js';
import { readLlama2cCheckpoint, readLlama2cHeader, readLlama2cTokenizer } from './llama2c.js';

const paths = stories260KPaths();

describe.skipIf(!paths)(`llama2.c stories260K ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  const bytes = () => new Uint8Array(readFileSync(paths!.model));

  it('reads the header the README documents', () => {
    const h = readLlama2cHeader(bytes());
    expect(h).toEqual({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      sharedClassifier: true,
    });
  });

  it('maps weights to canonical tensors as zero-copy views', () => {
    const file = bytes();
    const { spec, weights } = readLlama2cCheckpoint(file, 'stories260K.bin');
    expect(spec.tiedEmbeddings).toBe(true);
    expect(spec.ropeLayout).toBe('adjacent');
    expect(weights.has('output.weight')).toBe(false);
    const emb = weights.get('token_embd.weight');
    expect(emb.shape).toEqual([512, 64]);
    expect(emb.data.buffer).toBe(file.buffer);
    expect(weights.get('blk.4.attn_k.weight').shape).toEqual([32, 64]);
    // the first embedding value is the first float after the 28-byte header
    expect(weights.float32('token_embd.weight')[0]).toBe(new DataView(file.buffer).getFloat32(28, true));
  });

  it('reports a truncated checkpoint with the offset', () => {
    const file = bytes().subarray(0, 50_000);
    expect(() => readLlama2cCheckpoint(file, 'cut.bin')).toThrow(ModelFormatError);
    try {
      readLlama2cCheckpoint(file, 'cut.bin');
    } catch (error) {
      expect(SlmError.isInstance(error) && error.offset).toBe(50_000);
      expect(String(error)).toContain('cut.bin');
    }
  });

  it('reads the tokenizer: specials, byte tokens, dummy-prefix pieces', () => {
    const tok = readLlama2cTokenizer(new Uint8Array(readFileSync(paths!.tokenizer)), { vocabSize: 512 });
    expect(tok.vocabSize).toBe(512);
    expect(tok.special).toMatchObject({ unk: 0, bos: 1, eos: 2 });
    expect(tok.idToToken(3)).toBe('<0x00>');
    expect(tok.idToToken(259)).toBe('\u2581t');
    const ids = tok.encode('Once upon a time');
    expect(ids[0]).toBe(1);
    expect(tok.decode(ids)).toBe('Once upon a time');
    // a character outside the vocabulary goes through byte fallback and decodes back
    expect(tok.decode(tok.encode('snow ☃ man'))).toBe('snow ☃ man');
  });
});

describe('llama2.c bad input', () => {
  it('rejects a header with impossible sizes', () => {
    const header = new Int32Array([64, 172, 5, 8, 4, 512, 0]);
    expect(() => readLlama2cHeader(new Uint8Array(header.buffer), 'bad.bin')).toThrow(/seqLen/);
    const heads = new Int32Array([64, 172, 5, 7, 4, 512, 512]);
    expect(() => readLlama2cHeader(new Uint8Array(heads.buffer))).toThrow(ModelFormatError);
  });
  it('rejects a file shorter than the header', () => {
    expect(() => readLlama2cCheckpoint(new Uint8Array(10), 'tiny.bin')).toThrow(/28-byte/);
  });
  it('rejects a tokenizer with a bad token length', () => {
    const buf = new DataView(new ArrayBuffer(16));
    buf.setInt32(0, 7, true);
    buf.setFloat32(4, 0, true);
    buf.setInt32(8, 1_000_000, true);
    expect(() => readLlama2cTokenizer(new Uint8Array(buf.buffer), { vocabSize: 3 })).toThrow(/token\[0\]\.length/);
  });
});
