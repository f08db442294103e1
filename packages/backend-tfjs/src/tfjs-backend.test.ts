import { generateText, InvalidArgumentError } from '@slmkit/core';
import {
  createRandomModel,
  createReferenceBackend,
  goldenContinuations,
  runConformanceSuite,
} from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createTfjsBackend } from './tfjs-backend.js';
import { importTf } from './tfjs-runtime.js';

runConformanceSuite(
  { describe, it, skip: it.skip, afterAll },
  { name: 'tfjs (wasm)', createBackend: () => createTfjsBackend({ backend: 'wasm' }) },
);
runConformanceSuite(
  { describe, it, skip: it.skip, afterAll },
  { name: 'tfjs (cpu)', createBackend: () => createTfjsBackend({ backend: 'cpu' }) },
);

describe('tfjs backend', () => {
  it('matches the reference backend logits on a half-layout, untied, GQA model (prefill in chunks)', async () => {
    const data = createRandomModel({
      seed: 7,
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
    const ref = await createReferenceBackend().load(data);
    const model = await createTfjsBackend().load(data, { batchSize: 5 });
    const ids = Array.from({ length: 23 }, (_, i) => (i * 37 + 11) % 300);
    const a = await (await ref.createSequence()).forward(ids, { logits: 'all' });
    const seq = await model.createSequence();
    const b = await seq.forward(ids, { logits: 'all' });
    expect(b.positions).toEqual(a.positions);
    let max = 0;
    for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
    expect(max).toBeLessThan(1e-3);
    await model.dispose();
  });

  it('leaks no tensors across forward, truncate, reset and dispose', async () => {
    const tf = await importTf();
    const data = createRandomModel(goldenContinuations.random.model);
    const model = await createTfjsBackend().load(data);
    const seq = await model.createSequence();
    await seq.forward([1, 5, 6, 7]);
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await seq.forward([8 + i]);
    await seq.forward([1, 2, 3], { logits: 'all' });
    expect(tf.memory().numTensors).toBe(baseline);
    await seq.truncate(2);
    expect(tf.memory().numTensors).toBe(baseline);
    await expect(seq.forward([100_000])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(tf.memory().numTensors).toBe(baseline);
    await seq.reset();
    const before = tf.memory().numTensors;
    await model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    const text = await generateText({
      model: await createTfjsBackend().load(data),
      prompt: 'the',
      maxTokens: 3,
      temperature: 0,
    });
    expect(text.tokens.length).toBeGreaterThan(0);
  });

  it('embed leaks no tensors, in chunks, on errors and after an abort', async () => {
    const tf = await importTf();
    const data = createRandomModel(goldenContinuations.random.model);
    const model = await createTfjsBackend().load(data, { batchSize: 3 });
    const ids = [1, 5, 6, 7, 8, 9, 10, 11];
    const reference = await createReferenceBackend().load(data);
    await model.embed!(ids);
    const baseline = tf.memory().numTensors;
    for (const pooling of ['mean', 'last'] as const) {
      const got = await model.embed!(ids, { pooling });
      const want = await reference.embed!(ids, { pooling });
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
      expect(max).toBeLessThan(1e-4);
    }
    await expect(model.embed!([100_000])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(model.embed!([])).rejects.toBeInstanceOf(InvalidArgumentError);
    const controller = new AbortController();
    controller.abort();
    await expect(model.embed!(ids, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(tf.memory().numTensors).toBe(baseline);
    await model.dispose();
  });

  it('rejects an unknown kernel backend with a typed error', () => {
    // @ts-expect-error: testing a bad value
    expect(() => createTfjsBackend({ backend: 'webgpu2' })).toThrow(InvalidArgumentError);
  });
});
