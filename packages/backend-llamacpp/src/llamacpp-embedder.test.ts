import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosineSimilarity, ggufU32, modelDataToGguf, UnsupportedFeatureError, writeGguf } from '@slmkit/core';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createLlamaCppBackend } from './llamacpp-backend.js';
import { embeddingRow } from './native-binding.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'slmkit-llamacpp-embed-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('llamacpp embed', () => {
  it('matches the reference on a GQA, half-layout, untied model, across batches; aborts; ends with the model', async () => {
    const data = createRandomModel({
      seed: 11,
      vocabSize: 300,
      dim: 48,
      nLayers: 2,
      nHeads: 6,
      nKvHeads: 2,
      ffnDim: 80,
      contextLength: 64,
      ropeLayout: 'half',
      tiedEmbeddings: false,
    });
    const reference = await createReferenceBackend().load(data);
    const backend = createLlamaCppBackend({ cacheDir });
    try {
      // batchSize 4: `last` pooling decodes 23 tokens in 6 native batches and reads the final one.
      const model = await backend.load(data, { batchSize: 4 });
      const ids = Array.from({ length: 23 }, (_, i) => (i * 37 + 11) % 300);
      for (const pooling of ['mean', 'last'] as const) {
        for (const normalize of [true, false]) {
          const got = await model.embed!(ids, { pooling, normalize });
          const want = await reference.embed!(ids, { pooling, normalize });
          expect(cosineSimilarity(got, want), `${pooling} ${normalize}`).toBeGreaterThan(0.9999);
          let max = 0;
          for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
          expect(max, `${pooling} ${normalize}`).toBeLessThan(1e-3);
        }
      }
      // Calls in flight at once run one at a time on the shared embeddings context, each from an empty cache.
      const [a, b] = await Promise.all([model.embed!(ids.slice(0, 5)), model.embed!(ids)]);
      expect(cosineSimilarity(a, await reference.embed!(ids.slice(0, 5)))).toBeGreaterThan(0.9999);
      expect(cosineSimilarity(b, await reference.embed!(ids))).toBeGreaterThan(0.9999);
      const controller = new AbortController();
      controller.abort();
      await expect(model.embed!(ids, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(model.embed!(new Array(65).fill(5))).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
      // The context is usable after errors.
      expect(cosineSimilarity(await model.embed!(ids), await reference.embed!(ids))).toBeGreaterThan(0.9999);
      await model.dispose();
      await expect(model.embed!(ids)).rejects.toThrow(/disposed/);
    } finally {
      await backend.dispose();
    }
  });

  it('a GGUF that sets its own pooling type (CLS) still embeds with the pooling asked for; generation unchanged', async () => {
    const data = createRandomModel({ seed: 5 });
    const base = modelDataToGguf(data);
    const metadata = new Map(base.metadata);
    metadata.set('llama.pooling_type', ggufU32(2));
    const path = join(cacheDir, 'pooled.gguf');
    writeFileSync(path, writeGguf({ metadata, tensors: base.tensors }));
    const reference = await createReferenceBackend().load(data);
    const backend = createLlamaCppBackend({ cacheDir });
    try {
      const model = await backend.load(path);
      const ids = [1, 5, 6, 9, 2, 7];
      for (const pooling of ['mean', 'last'] as const) {
        const got = await model.embed!(ids, { pooling });
        expect(cosineSimilarity(got, await reference.embed!(ids, { pooling })), pooling).toBeGreaterThan(0.9999);
      }
      // The GGUF's pooling key (and the backend's override of it) leaves generation alone: the same logits as the
      // GGUF without the key.
      const plain = await backend.load(data);
      const logits = (await (await model.createSequence()).forward(ids)).last();
      const wantLogits = (await (await plain.createSequence()).forward(ids)).last();
      expect(Array.from(logits)).toEqual(Array.from(wantLogits));
      await expect(model.embed!([])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await backend.dispose();
    }
  });

  it('checks the shape of what the addon returns', () => {
    expect(embeddingRow(Float64Array.of(1, 2, 3), 3)).toEqual(Float32Array.of(1, 2, 3));
    expect(() => embeddingRow(Float64Array.of(1, 2), 3)).toThrow(UnsupportedFeatureError);
    expect(() => embeddingRow([1, 2, 3], 3)).toThrow(/object for a hidden size of 3/);
  });
});
