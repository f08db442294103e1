import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosineSimilarity, UnsupportedFeatureError } from '@slmkit/core';
import { createRandomModel, createReferenceBackend, goldenContinuations } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LAST_HIDDEN_STATE } from './export/llama-graph.js';
import { createOnnxBackend, exportOnnxFolder, type OnnxLoadedModel } from './index.js';

const stories = stories260KPaths();
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'slmkit-onnx-embed-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ONNX embeddings (the last_hidden_state output)', () => {
  it('every exported variant outputs last_hidden_state, and embed matches the reference backend', async () => {
    const data = createRandomModel(goldenContinuations.random.model);
    const dir = join(work, 'random');
    await exportOnnxFolder(data, dir, { variants: ['fp32', 'int8', 'portable'] });
    const reference = await createReferenceBackend().load(data);
    const ids = data.tokenizer.encode('the quick brown fox jumps');
    for (const dtype of ['fp32', 'portable', 'int8'] as const) {
      const backend = createOnnxBackend({ dtype });
      const model = (await backend.load(dir)) as OnnxLoadedModel;
      try {
        expect(model.session.outputNames, dtype).toContain(LAST_HIDDEN_STATE);
        for (const pooling of ['mean', 'last'] as const) {
          const got = await model.embed(ids, { pooling });
          const want = await reference.embed!(ids, { pooling });
          expect(cosineSimilarity(got, want), `${dtype} ${pooling}`).toBeGreaterThanOrEqual(
            dtype === 'int8' ? 0.99 : 0.9999,
          );
        }
      } finally {
        await backend.dispose();
      }
    }
  });

  it('the decode loop fetches only logits (all rows, or the last row alone) and the KV cache, never last_hidden_state', async () => {
    const backend = createOnnxBackend({ fused: true });
    const model = (await backend.load(createRandomModel(goldenContinuations.random.model))) as OnnxLoadedModel;
    try {
      const run = vi.spyOn(model.session, 'run');
      const sequence = await model.createSequence();
      await sequence.forward([1, 5, 6], { logits: 'all' });
      await sequence.forward([7, 8, 9]);
      expect(run).toHaveBeenCalledTimes(2);
      const fetched = run.mock.calls.map((call) => Object.keys(call[1] as Record<string, unknown>));
      // KV-slot graph (the default here): 'all' asks for logits from position 0, a one-row request from the last.
      const from = run.mock.calls.map((call) =>
        Number((call[0] as Record<string, { data: BigInt64Array }>).logits_from.data[0]),
      );
      expect(from).toEqual([0, 2]);
      for (const names of fetched) {
        expect(names).toContain('logits');
        expect(names).not.toContain(LAST_HIDDEN_STATE);
      }
      run.mockRestore();
    } finally {
      await backend.dispose();
    }
  });

  it.skipIf(!stories)(
    `a third-party graph without last_hidden_state -> UnsupportedFeatureError naming the file and the output${stories ? '' : ` (${SHARED_MISSING_REASON})`}`,
    async () => {
      const backend = createOnnxBackend({ dtype: 'fp32' });
      try {
        const model = (await backend.load(stories!.hfOnnx)) as OnnxLoadedModel;
        expect(model.session.outputNames).not.toContain(LAST_HIDDEN_STATE);
        const error = await model.embed([1, 5, 6]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect((error as UnsupportedFeatureError).file).toMatch(/stories260K-hf-onnx\/onnx\/model\.onnx$/);
        expect((error as UnsupportedFeatureError).field).toBe(LAST_HIDDEN_STATE);
      } finally {
        await backend.dispose();
      }
    },
  );
});
