/**
 * Distillation vs from-scratch: a student (preset 0.3m, same tokenizer) trained on the same data and steps, once
 * with plain cross-entropy and once on the teacher's soft targets; reports validation perplexity and a
 * DistilBERT-style table of size / speed / quality ratios student vs teacher.
 *   TEACHER=<hf folder> DATA=<slm data folder> npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts distill
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelData, parameterCount } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { it } from 'vitest';
import { createTfjsBackend } from '../src/tfjs-backend.js';
import { tokenizeDatasetFile } from '../src/training/train-files.js';
import { specFromPreset, TRAIN_PRESETS } from '../src/training/train-presets.js';
import { evaluateLoss, teacherFromModel, trainModel } from '../src/training/trainer.js';

async function decodeSpeed(data: ModelData): Promise<number> {
  const model = await createTfjsBackend().load(data);
  const seq = await model.createSequence();
  await seq.forward([1]);
  const cpu = process.cpuUsage();
  for (let i = 0; i < 64; i++) await seq.forward([(i * 7 + 3) % data.spec.vocabSize]);
  const used = process.cpuUsage(cpu);
  await model.dispose();
  return 64 / ((used.user + used.system) / 1e6);
}

it('distillation vs from scratch', async () => {
  const teacherDir = process.env.TEACHER;
  const dataDir = process.env.DATA;
  if (!teacherDir || !dataDir) return;
  const teacher = await loadModelData(teacherDir);
  const train = await tokenizeDatasetFile(join(dataDir, 'train.txt'), teacher.tokenizer);
  const val = await tokenizeDatasetFile(join(dataDir, 'val.txt'), teacher.tokenizer);
  const steps = Number(process.env.STEPS ?? 60);
  const seqLen = 128;
  const studentSpec = {
    ...specFromPreset(
      { ...TRAIN_PRESETS['0.3m'], contextLength: teacher.spec.contextLength },
      teacher.spec.vocabSize,
      'student',
    ),
  };
  const config = {
    seqLen,
    batchSize: 8,
    steps,
    learningRate: 4e-3,
    minLearningRate: 4e-4,
    warmupSteps: 6,
    evalEvery: 0,
    checkpointEvery: steps,
    seed: 7,
  };
  const work = await mkdtemp(join(tmpdir(), 'slmkit-distill-'));
  const teacherModel = await createTfjsBackend().load(teacher);
  const evalArgs = { tokens: val, seqLen, batchSize: 8, maxBatches: 8 };
  const report: Record<string, unknown> = { steps, trainTokens: train.length };
  const teacherLoss = await evaluateLoss({ ...evalArgs, spec: teacher.spec, weights: teacher.weights });
  for (const mode of ['scratch', 'distilled'] as const) {
    const started = performance.now();
    const result = await trainModel({
      spec: studentSpec,
      config,
      train,
      distill:
        mode === 'distilled'
          ? { teacherLogits: teacherFromModel(teacherModel), temperature: 2, alpha: 0.5 }
          : undefined,
      outDir: join(work, mode),
    });
    const loss = await evaluateLoss({ ...evalArgs, spec: studentSpec, weights: result.weights });
    report[mode] = { valPerplexity: Math.exp(loss), seconds: Math.round((performance.now() - started) / 1000) };
    if (mode === 'distilled') {
      const studentSpeed = await decodeSpeed({
        spec: studentSpec,
        weights: result.weights,
        tokenizer: teacher.tokenizer,
      });
      const teacherSpeed = await decodeSpeed(teacher);
      report.table = {
        teacher: {
          parameters: parameterCount(teacher.spec),
          valPerplexity: Math.exp(teacherLoss),
          decodeTokensPerCpuSecond: Math.round(teacherSpeed),
        },
        student: {
          parameters: parameterCount(studentSpec),
          valPerplexity: Math.exp(loss),
          decodeTokensPerCpuSecond: Math.round(studentSpeed),
        },
        ratios: {
          size: parameterCount(studentSpec) / parameterCount(teacher.spec),
          speed: studentSpeed / teacherSpeed,
          perplexity: Math.exp(loss) / Math.exp(teacherLoss),
        },
      };
    }
  }
  await teacherModel.dispose();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  await rm(work, { recursive: true, force: true });
});
