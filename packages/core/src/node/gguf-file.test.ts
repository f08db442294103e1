import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, ModelFormatError, NotFoundError, SlmError } from '../errors/index.js';
import { modelDataToGguf, modelDataToGgufSources } from '../formats/gguf-llama.js';
import { readGguf } from '../formats/gguf-reader.js';
import { corruptedVariants } from '../formats/gguf-test-fixtures.js';
import { type GgufValue, GgufValueType } from '../formats/gguf-types.js';
import { writeGguf } from '../formats/gguf-writer.js';
import { encodeTensor, float32Tensor } from '../model/tensor.js';
import { createRandomModel } from '../testing/random-model.js';
import { openGgufFile, writeGgufFile } from './gguf-file.js';

const dir = mkdtempSync(join(tmpdir(), 'slmkit-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bigMetadata(): Map<string, GgufValue> {
  // ~2.4 MB of strings: more than the first 1 MiB read, so the header read has to grow
  const tokens = Array.from({ length: 200_000 }, (_, i) => `token-${i}`);
  return new Map<string, GgufValue>([
    ['general.architecture', { type: GgufValueType.string, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: GgufValueType.array, itemType: GgufValueType.string, value: tokens }],
  ]);
}

const values = new Float32Array(256).map((_, i) => Math.cos(i));
const tensors = [float32Tensor('a', [8, 32], values), encodeTensor('b', [256], values, 'q8_0')];

describe('openGgufFile', () => {
  it('reads a header larger than the first read and tensors on demand', async () => {
    const path = join(dir, 'big.gguf');
    const bytes = writeGguf({ metadata: bigMetadata(), tensors });
    writeFileSync(path, bytes);
    const file = await openGgufFile(path);
    try {
      expect(file.fileSize).toBe(bytes.length);
      expect((file.metadata.get('tokenizer.ggml.tokens')?.value as string[] | undefined)?.at(-1)).toBe('token-199999');
      const b = await file.readTensor('b');
      expect(b.dtype).toBe('q8_0');
      expect(Buffer.from(b.data).equals(Buffer.from(tensors[1].data))).toBe(true);
      await expect(file.readTensor('nope')).rejects.toThrow(ModelFormatError);
    } finally {
      await file.close();
    }
    await expect(file.readTensor('a')).rejects.toThrow(/closed/);
  });

  it('gives typed errors for missing, truncated and non-GGUF files', async () => {
    await expect(openGgufFile(join(dir, 'missing.gguf'))).rejects.toThrow(NotFoundError);
    const bytes = writeGguf({ metadata: bigMetadata(), tensors });
    writeFileSync(join(dir, 'cut.gguf'), bytes.subarray(0, 1_500_000));
    await expect(openGgufFile(join(dir, 'cut.gguf'))).rejects.toThrow(/truncated|remain/);
    writeFileSync(join(dir, 'junk.gguf'), 'not a gguf file at all');
    await expect(openGgufFile(join(dir, 'junk.gguf'))).rejects.toThrow(/bad magic/);
  });
});

describe('openGgufFile fuzz', () => {
  it('300 corrupted files give a typed error or a readable file', async () => {
    const original = writeGguf(modelDataToGguf(createRandomModel({ seed: 8 })));
    const hotEnd = readGguf(original).dataOffset;
    const untyped: string[] = [];
    let ok = 0;
    const path = join(dir, 'fuzz.gguf');
    for (const { label, bytes } of corruptedVariants(original, { count: 300, seed: 5, hotEnd })) {
      writeFileSync(path, bytes);
      try {
        const file = await openGgufFile(path);
        try {
          for (const t of file.tensors) await file.readTensor(t.name);
          ok++;
        } finally {
          await file.close();
        }
      } catch (error) {
        if (!SlmError.isInstance(error)) untyped.push(`${label}: ${String(error)}`);
      }
    }
    expect(untyped).toEqual([]);
    expect(ok).toBeGreaterThan(10);
  }, 30_000);
});

describe('writeGgufFile', () => {
  it('streams the same bytes writeGguf produces, from lazy tensor sources', async () => {
    const path = join(dir, 'streamed.gguf');
    const stages: string[] = [];
    const result = await writeGgufFile(path, {
      metadata: bigMetadata(),
      tensors: [tensors[0], { name: 'b', shape: [256], dtype: 'q8_0', read: async () => tensors[1].data }],
      onProgress: (p) => stages.push(p.stage),
    });
    const expected = writeGguf({ metadata: bigMetadata(), tensors });
    expect(result.bytes).toBe(expected.length);
    expect(readFileSync(path).equals(Buffer.from(expected))).toBe(true);
    expect(stages).toEqual(['writing a', 'writing b']);
  });

  it('writes a model from lazy sources (one tensor encoded at a time) identical to the in-memory writer', async () => {
    const model = createRandomModel({ seed: 4 });
    const path = join(dir, 'lazy.gguf');
    const lazy = modelDataToGgufSources(model, { quantize: 'q8_0' });
    let reads = 0;
    const counted = lazy.tensors.map((t) => ({
      ...t,
      read: () => {
        reads++;
        return t.read();
      },
    }));
    await writeGgufFile(path, { metadata: lazy.metadata, tensors: counted });
    expect(reads).toBe(lazy.tensors.length);
    expect(readFileSync(path).equals(Buffer.from(writeGguf(modelDataToGguf(model, { quantize: 'q8_0' }))))).toBe(true);
  });

  it('leaves nothing behind when aborted or given a wrong-sized tensor', async () => {
    const path = join(dir, 'aborted.gguf');
    const controller = new AbortController();
    controller.abort();
    await expect(writeGgufFile(path, { metadata: new Map(), tensors, signal: controller.signal })).rejects.toThrow(
      AbortError,
    );
    await expect(
      writeGgufFile(path, {
        metadata: new Map(),
        tensors: [{ name: 'x', shape: [4], dtype: 'f32', read: () => new Uint8Array(3) }],
      }),
    ).rejects.toThrow(/needs 16/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(false);
  });
});
