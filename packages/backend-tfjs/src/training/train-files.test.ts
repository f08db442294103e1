import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, type ModelSpec } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { createReferenceBackend, syntheticSpmTokenizer } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createTfjsBackend } from '../tfjs-backend.js';
import { exportTrainedModel, tokenizeDatasetFile } from './train-files.js';
import { trainModel } from './trainer.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('export of a trained model', () => {
  it('writes an HF folder and a GGUF that core loads and that generate the same greedy text on tfjs and reference', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slmkit-export-'));
    dirs.push(dir);
    const tokenizer = syntheticSpmTokenizer(300);
    const text = Array.from({ length: 120 }, (_, i) => `the cat sat on the mat ${i % 7}. the dog ran.`).join('\n\n');
    await writeFile(join(dir, 'train.txt'), text);
    const train = await tokenizeDatasetFile(join(dir, 'train.txt'), tokenizer);
    expect(train.length).toBeGreaterThan(1000);
    expect(train[0]).toBe(tokenizer.special.bos);
    const spec: ModelSpec = {
      architecture: 'llama',
      name: 'export-test',
      vocabSize: tokenizer.vocabSize,
      dim: 32,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      ffnDim: 64,
      contextLength: 64,
      ropeTheta: 10_000,
      ropeLayout: 'half',
      normEps: 1e-5,
      tiedEmbeddings: true,
    };
    const result = await trainModel({
      spec,
      config: { seqLen: 32, batchSize: 4, steps: 20, warmupSteps: 2, learningRate: 1e-2, checkpointEvery: 20 },
      train,
      outDir: dir,
    });
    const exported = await exportTrainedModel(dir, { spec, weights: result.weights, tokenizer });
    const prompt = 'the cat';
    const fromMemory = await generateText({
      model: await createReferenceBackend().load({ spec, weights: result.weights, tokenizer }),
      prompt,
      maxTokens: 12,
      temperature: 0,
    });
    for (const path of [exported.hfFolder, exported.gguf as string]) {
      const data = await loadModelData(path);
      const tfjs = await generateText({
        model: await createTfjsBackend().load(data),
        prompt,
        maxTokens: 12,
        temperature: 0,
      });
      const ref = await generateText({
        model: await createReferenceBackend().load(data),
        prompt,
        maxTokens: 12,
        temperature: 0,
      });
      expect(tfjs.tokens).toEqual(fromMemory.tokens);
      expect(ref.tokens).toEqual(fromMemory.tokens);
    }
  });
});
