import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ggufToModelData, SlmError } from '@slmkit/core';
import { openGgufFile } from '@slmkit/core/node';
import { createRandomModel } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheModelDataAsGguf } from './gguf-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'slmkit-gguf-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GGUF conversion cache', () => {
  it('keys files by content: the same model hits the cache, a changed one does not', async () => {
    const a = createRandomModel({ seed: 11 });
    const first = await cacheModelDataAsGguf(a, { cacheDir: dir });
    const again = await cacheModelDataAsGguf(createRandomModel({ seed: 11 }), { cacheDir: dir });
    expect(first.written).toBe(true);
    expect(again.written).toBe(false);
    expect(again.path).toBe(first.path);
    const other = await cacheModelDataAsGguf(createRandomModel({ seed: 12 }), { cacheDir: dir });
    const q8 = await cacheModelDataAsGguf(a, { cacheDir: dir, quantize: 'q8_0' });
    expect(new Set([first.path, other.path, q8.path]).size).toBe(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('writes a file that reads back to the same weights and tokenizer', async () => {
    const data = createRandomModel({ seed: 13, tiedEmbeddings: false });
    const { path } = await cacheModelDataAsGguf(data, { cacheDir: dir });
    const file = await openGgufFile(path);
    try {
      const back = await ggufToModelData(file);
      expect(back.spec.vocabSize).toBe(data.spec.vocabSize);
      expect(back.spec.tiedEmbeddings).toBe(false);
      expect([...back.weights.float32('blk.1.ffn_down.weight')]).toEqual([
        ...data.weights.float32('blk.1.ffn_down.weight'),
      ]);
      expect(back.tokenizer.encode('the quick brown fox')).toEqual(data.tokenizer.encode('the quick brown fox'));
    } finally {
      await file.close();
    }
  });

  it('stops with an AbortError when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      cacheModelDataAsGguf(createRandomModel({ seed: 14 }), { cacheDir: dir, signal: controller.signal }),
    ).rejects.toSatisfy((e: unknown) => SlmError.isInstance(e) && e.code === 'ABORTED');
  });
});
