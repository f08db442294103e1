import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, InvalidArgumentError, type ModelSpec } from '@slmkit/core';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { activateTf } from '../tfjs-runtime.js';
import { loadCheckpoint } from './checkpoint.js';
import {
  createForwardConstants,
  createVariables,
  crossEntropy,
  disposeForwardConstants,
  disposeParams,
  distillationLoss,
  forwardLogits,
  valuesToWeights,
  weightsToValues,
} from './trainable-llama.js';
import { evaluateLoss, NonFiniteLossError, type TrainConfig, teacherFromModel, trainModel } from './trainer.js';

const spec: ModelSpec = {
  architecture: 'llama',
  name: 'tiny-train',
  vocabSize: 64,
  dim: 32,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  ffnDim: 64,
  contextLength: 32,
  ropeTheta: 10_000,
  ropeLayout: 'half',
  normEps: 1e-5,
  tiedEmbeddings: true,
};

/** A learnable stream: a repeating pattern with a little seeded noise. */
function corpus(length: number, seed = 1): Int32Array {
  const out = new Int32Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s % 10 === 0 ? s % 64 : (i * 7) % 23;
  }
  return out;
}

const config: Partial<TrainConfig> = {
  seqLen: 16,
  batchSize: 4,
  steps: 6,
  warmupSteps: 2,
  learningRate: 1e-2,
  minLearningRate: 1e-3,
  evalEvery: 3,
  evalBatches: 2,
  checkpointEvery: 3,
  logEvery: 1,
  seed: 9,
};
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slmkit-train-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('trainable llama', () => {
  for (const layout of ['half', 'adjacent'] as const) {
    it(`computes the same logits as the reference backend (${layout} RoPE, GQA, untied)`, async () => {
      const tf = await activateTf('wasm');
      const data = createRandomModel({
        seed: 3,
        vocabSize: 300,
        dim: 32,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 2,
        ffnDim: 48,
        contextLength: 16,
        ropeLayout: layout,
        tiedEmbeddings: false,
      });
      const values = weightsToValues(data.spec, data.weights);
      const params = createVariables(tf, data.spec, values);
      const constants = createForwardConstants(tf, data.spec, 8);
      const ids = Int32Array.from([1, 17, 250, 3, 99, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      const logits = tf.tidy(() => forwardLogits(tf, data.spec, params, ids, 2, constants).dataSync() as Float32Array);
      disposeForwardConstants(constants);
      disposeParams(params);
      const ref = await createReferenceBackend().load(data);
      for (let b = 0; b < 2; b++) {
        const rows = await (await ref.createSequence()).forward([...ids.subarray(b * 8, b * 8 + 8)], { logits: 'all' });
        let max = 0;
        for (let i = 0; i < rows.data.length; i++)
          max = Math.max(max, Math.abs(rows.data[i] - logits[b * 8 * 300 + i]));
        expect(max).toBeLessThan(1e-3);
      }
      // canonical -> trainable -> canonical is lossless
      const back = valuesToWeights(data.spec, values);
      for (const name of data.weights.names()) expect(back.float32(name)).toEqual(data.weights.float32(name));
    });
  }
});

describe('gradients', () => {
  it('match finite differences (custom matmul, embedding scatter-add and RoPE backward)', async () => {
    const tf = await activateTf('cpu');
    const data = createRandomModel({
      seed: 11,
      vocabSize: 40,
      dim: 16,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 1,
      ffnDim: 24,
      contextLength: 8,
      ropeLayout: 'adjacent',
    });
    const values = weightsToValues(data.spec, data.weights);
    const params = createVariables(tf, data.spec, values);
    const c = createForwardConstants(tf, data.spec, 6);
    const ids = Int32Array.from([1, 5, 9, 5, 30, 2, 7, 7, 3, 1, 0, 39]);
    const targets = Int32Array.from([5, 9, 5, 30, 2, 8, 7, 3, 1, 0, 39, 4]);
    const loss = () => crossEntropy(tf, forwardLogits(tf, data.spec, params, ids, 2, c), targets);
    const vars = [...params.variables.values()];
    const { grads } = tf.variableGrads(loss, vars);
    const probe: Array<[string, number]> = [
      ['token_embd.weight', 5 * 16 + 3],
      ['blk.0.attn_qkv', 7],
      ['blk.0.attn_output.weight', 20],
      ['blk.0.ffn_gate_up', 33],
      ['blk.0.ffn_down.weight', 2],
      ['blk.0.attn_norm.weight', 4],
    ];
    for (const [name, index] of probe) {
      const variable = params.variables.get(name) as import('@tensorflow/tfjs').Variable;
      const base = Float32Array.from(variable.dataSync() as Float32Array);
      const h = 1e-2;
      const at = (delta: number) => {
        const v = Float32Array.from(base);
        v[index] += delta;
        variable.assign(tf.tensor(v, variable.shape));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      variable.assign(tf.tensor(base, variable.shape));
      const analytic = (grads[variable.name].dataSync() as Float32Array)[index];
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-4 + 0.01 * Math.abs(numeric));
    }
    disposeForwardConstants(c);
    disposeParams(params);
  });
});

describe('trainModel', () => {
  it('lowers the loss, writes checkpoint, JSONL log and SVG curve', async () => {
    const outDir = await tempDir();
    const result = await trainModel({
      spec,
      config: { ...config, steps: 30, checkpointEvery: 10, evalEvery: 10 },
      train: corpus(4000),
      val: corpus(600, 2),
      outDir,
    });
    const log = (await readFile(result.logPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; loss?: number });
    const steps = log.filter((e) => e.type === 'step');
    expect(steps.length).toBe(30);
    expect(result.finalLoss).toBeLessThan((steps[0].loss as number) * 0.8);
    expect(log.filter((e) => e.type === 'val').length).toBe(3);
    expect(await readFile(result.curvePath, 'utf8')).toContain('<svg');
    expect((await stat(result.checkpointPath)).size).toBeGreaterThan(0);
    const ckpt = await loadCheckpoint(result.checkpointPath);
    expect(ckpt.state.step).toBe(30);
    expect(ckpt.m.size).toBe(ckpt.params.size);
  });

  it('resumes exactly: killed mid-run and resumed gives the same final loss as an uninterrupted run', async () => {
    const train = corpus(3000);
    const val = corpus(600, 2);
    const whole = await trainModel({ spec, config, train, val, outDir: await tempDir() });
    const outDir = await tempDir();
    const controller = new AbortController();
    await expect(
      trainModel({
        spec,
        config,
        train,
        val,
        outDir,
        signal: controller.signal,
        onProgress: (p) => p.step === 5 && controller.abort(),
      }),
    ).rejects.toBeInstanceOf(AbortError);
    expect((await loadCheckpoint(join(outDir, 'checkpoint.safetensors'))).state.step).toBe(3);
    const resumed = await trainModel({ spec, config, train, val, outDir, resume: true });
    expect(resumed.steps).toBe(6);
    expect(resumed.finalLoss).toBe(whole.finalLoss);
    expect(resumed.finalValLoss).toBe(whole.finalValLoss);
    expect(resumed.weights.float32('blk.1.ffn_down.weight')).toEqual(whole.weights.float32('blk.1.ffn_down.weight'));
  });

  it('gives the same result with gradient accumulation 2 x 2 as one batch of 4 (up to float error)', async () => {
    const train = corpus(3000);
    const a = await trainModel({ spec, config: { ...config, steps: 3 }, train, outDir: await tempDir() });
    const b = await trainModel({
      spec,
      config: { ...config, steps: 3, batchSize: 2, gradAccumulation: 2 },
      train,
      outDir: await tempDir(),
    });
    // same windows in the same order: the batch of 4 is the two micro-batches of 2
    expect(Math.abs(a.finalLoss - b.finalLoss)).toBeLessThan(1e-4);
  });

  it('rejects an empty corpus and a corpus smaller than one batch with typed errors', async () => {
    const outDir = await tempDir();
    await expect(trainModel({ spec, config, train: new Int32Array(0), outDir })).rejects.toThrow(/empty/);
    await expect(trainModel({ spec, config, train: corpus(40), outDir })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(trainModel({ spec, config, train: Int32Array.from([1, 2, 999]), outDir })).rejects.toThrow(
      /outside the vocabulary/,
    );
  });

  it('stops at a NaN loss with the step in a typed error, keeping the last good checkpoint', async () => {
    const outDir = await tempDir();
    const error = await trainModel({
      spec,
      config: { ...config, steps: 10, checkpointEvery: 1, gradClip: 0 },
      train: corpus(3000),
      outDir,
      learningRateSchedule: (step) => (step < 3 ? 1e-3 : 1e38),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const step = (error as NonFiniteLossError).step;
    expect(step).toBeGreaterThan(3);
    expect((error as Error).message).toContain(`step ${step}`);
    const ckpt = await loadCheckpoint(join(outDir, 'checkpoint.safetensors'));
    expect(ckpt.state.step).toBe(step - 1);
    expect(Number.isFinite(ckpt.state.lastLoss)).toBe(true);
  });
});

describe('fine-tuning and distillation mechanics', () => {
  const base = createRandomModel({
    seed: 5,
    vocabSize: 64,
    dim: 32,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    ffnDim: 64,
    contextLength: 32,
    ropeLayout: 'adjacent',
  });

  it('LoRA trains adapters only and the merged export reproduces the adapted model exactly', async () => {
    const val = corpus(600, 2);
    const before = await evaluateLoss({
      spec: base.spec,
      weights: base.weights,
      tokens: val,
      seqLen: 16,
      batchSize: 4,
      maxBatches: 2,
    });
    const result = await trainModel({
      spec: base.spec,
      initialWeights: base.weights,
      lora: { rank: 4 },
      config: { ...config, steps: 12, evalEvery: 12, checkpointEvery: 12 },
      train: corpus(3000),
      val,
      outDir: await tempDir(),
    });
    expect(result.finalValLoss as number).toBeLessThan(before);
    // norms are frozen under LoRA: unchanged in the export
    expect(result.weights.float32('blk.0.attn_norm.weight')).toEqual(base.weights.float32('blk.0.attn_norm.weight'));
    expect(result.weights.float32('blk.0.attn_q.weight')).not.toEqual(base.weights.float32('blk.0.attn_q.weight'));
    const merged = await evaluateLoss({
      spec: base.spec,
      weights: result.weights,
      tokens: val,
      seqLen: 16,
      batchSize: 4,
      maxBatches: 2,
    });
    expect(Math.abs(merged - (result.finalValLoss as number))).toBeLessThan(1e-4);
  });

  it('the distillation loss is (1 - alpha) x CE when the student equals the teacher, and more otherwise', async () => {
    const tf = await activateTf('wasm');
    const targets = Int32Array.from([1, 2, 3]);
    const [same, other, ce] = tf.tidy(() => {
      const logits = tf.tensor2d([1, 2, 0.5, -1, 0, 3, 2, 2, 1, 0.1, 0, 0], [3, 4]);
      const teacher = tf.softmax(tf.div(logits, 2)) as import('@tensorflow/tfjs').Tensor2D;
      const uniform = tf.fill([3, 4], 0.25) as import('@tensorflow/tfjs').Tensor2D;
      return [
        distillationLoss(tf, logits, targets, teacher, 2, 0.7).dataSync()[0],
        distillationLoss(tf, logits, targets, uniform, 2, 0.7).dataSync()[0],
        crossEntropy(tf, logits, targets).dataSync()[0],
      ];
    });
    expect(same).toBeCloseTo(0.3 * ce, 5);
    expect(other).toBeGreaterThan(same + 1e-3);
  });

  it('distils from a teacher on another backend (reference) and lowers the loss', async () => {
    const teacher = await createReferenceBackend().load(base);
    const student: ModelSpec = { ...base.spec, name: 'student', dim: 16, nHeads: 2, nKvHeads: 1, ffnDim: 32 };
    const result = await trainModel({
      spec: student,
      distill: { teacherLogits: teacherFromModel(teacher), temperature: 2, alpha: 0.5 },
      config: { ...config, steps: 4, evalEvery: 4, checkpointEvery: 4, logEvery: 1 },
      train: corpus(3000),
      outDir: await tempDir(),
    });
    const log = (await readFile(result.logPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; loss?: number });
    const losses = log.filter((e) => e.type === 'step').map((e) => e.loss as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  });
});
