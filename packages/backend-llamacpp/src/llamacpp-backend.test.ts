import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceSuite } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheModelDataAsGguf, cacheModelFilesAsGguf } from './gguf-cache.js';
import { createLlamaCppBackend } from './llamacpp-backend.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'slmkit-llamacpp-conformance-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

runConformanceSuite(
  { describe, it, skip: it.skip },
  {
    name: 'llamacpp',
    createBackend: () => createLlamaCppBackend({ cacheDir }),
    // The fixture reaches llama.cpp as a GGUF file written by core's writer, as a user's model would.
    prepareFixture: async (fixture) => (await cacheModelDataAsGguf(fixture, { cacheDir })).path,
    prepareStories260K: async (paths) =>
      (await cacheModelFilesAsGguf({ path: paths.model, tokenizerPath: paths.tokenizer }, { cacheDir })).path,
  },
);

describe('llamacpp backend settings', () => {
  it('reports the device, threads and weight type that ran; tiny models get one thread', async () => {
    const { createRandomModel } = await import('@slmkit/core/testing');
    const backend = createLlamaCppBackend({ cacheDir });
    try {
      const model = await backend.load(createRandomModel({ seed: 2 }));
      expect(model.info.backend).toBe('llamacpp');
      expect(['cpu', 'cuda', 'vulkan', 'metal']).toContain(model.info.device);
      expect(model.info.threads).toBe(1);
      expect(model.info.weightType).toBe('f32');
      expect(model.info.details?.converted).toBe(true);
      await model.dispose();
      const two = await backend.load(createRandomModel({ seed: 2 }), { threads: 2, contextSize: 64, batchSize: 8 });
      expect(two.info.threads).toBe(2);
      expect(two.contextSize).toBe(64);
      // A prompt longer than the batch size is evaluated in several native batches.
      const sequence = await two.createSequence();
      const ids = Array.from({ length: 20 }, (_, i) => 10 + i);
      const all = await sequence.forward(ids, { logits: 'all' });
      expect(all.rows).toBe(20);
      expect(sequence.counters.forwardCalls).toBe(3);
      await two.dispose();
    } finally {
      await backend.dispose();
    }
  });
});
