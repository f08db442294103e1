import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosineSimilarity, embed, parseLabelledTsv, TextClassifier } from '@slmkit/core';
import { createRandomModel, createReferenceBackend, RANDOM_MODEL_PRESETS } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClassifier, saveClassifier } from './classifier-files.js';
import { distillClassifier } from './distill-classifier.js';
import { TfjsClassifier } from './tfjs-classifier.js';
import { type ClassifierExample, trainClassifier } from './train-classifier.js';

const KERNEL = 'wasm' as const;
const teacherData = createRandomModel({ seed: 5, ...RANDOM_MODEL_PRESETS.tiny, tiedEmbeddings: true });

/** A synthetic sentiment task: the label follows the cue word; filler words are noise. */
function syntheticExamples(n: number, seed: number): ClassifierExample[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296;
  };
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'it', 'cast', 'story', 'very'];
  const cues = { pos: ['good', 'great', 'fine'], neg: ['bad', 'awful', 'dull'] };
  return Array.from({ length: n }, (_, i) => {
    const label = i % 2 === 0 ? 'pos' : 'neg';
    const words = Array.from({ length: 2 + Math.floor(rand() * 4) }, () => filler[Math.floor(rand() * filler.length)]);
    words.splice(Math.floor(rand() * words.length), 0, cues[label][Math.floor(rand() * 3)]);
    return { text: words.join(' '), label, line: i + 2 };
  });
}

const train = syntheticExamples(96, 1);
const held = syntheticExamples(40, 2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const fullPromise = trainClassifier({
  backbone: teacherData,
  examples: train,
  mode: 'full',
  epochs: 6,
  batchSize: 16,
  learningRate: 3e-3,
  kernelBackend: KERNEL,
  seed: 3,
});

describe('classifier training (tfjs)', () => {
  it('full fine-tuning lowers the loss and learns the task', async () => {
    const trained = await fullPromise;
    const h = trained.stats.lossHistory;
    expect(trained.stats.steps).toBe(36);
    expect(mean(h.slice(-6))).toBeLessThan(mean(h.slice(0, 6)) * 0.7);
    const classifier = await TfjsClassifier.create(trained.data, trained.head, { kernelBackend: KERNEL });
    try {
      const predictions = await classifier.classify(held.map((e) => e.text));
      const accuracy = mean(predictions.map((p, i) => (p.label === held[i].label ? 1 : 0)));
      expect(accuracy).toBeGreaterThanOrEqual(0.85);
    } finally {
      classifier.dispose();
    }
  });

  it('head-only training leaves the backbone unchanged and lowers the loss', async () => {
    const progress: number[] = [];
    const trained = await trainClassifier({
      backbone: teacherData,
      examples: train,
      mode: 'head',
      epochs: 4,
      batchSize: 16,
      kernelBackend: KERNEL,
      onProgress: (p) => progress.push(p.step),
    });
    expect(progress).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(trained.data.weights.names().sort()).toEqual(teacherData.weights.names().sort());
    for (const name of teacherData.weights.names()) {
      expect(trained.data.weights.float32(name)).toEqual(teacherData.weights.float32(name));
    }
    const h = trained.stats.lossHistory;
    expect(mean(h.slice(-6))).toBeLessThan(mean(h.slice(0, 6)));
  });

  it('saves and loads (HF folder + head JSON, and GGUF) with identical predictions', async () => {
    const trained = await fullPromise;
    const dir = await mkdtemp(join(tmpdir(), 'slm-classifier-'));
    dirs.push(dir);
    const paths = await saveClassifier(dir, trained, { gguf: true });
    const texts = held.map((e) => e.text);
    const before = await TfjsClassifier.create(trained.data, trained.head, { kernelBackend: KERNEL });
    const expected = await before.logits(texts);
    before.dispose();
    for (const backbonePath of [dir, paths.gguf as string]) {
      const loaded = await loadClassifier(dir, backbonePath);
      expect(loaded.head.labels).toEqual(trained.head.labels);
      const after = await TfjsClassifier.create(loaded.data, loaded.head, { kernelBackend: KERNEL });
      const got = await after.logits(texts);
      after.dispose();
      got.forEach((row, i) => {
        for (let k = 0; k < row.length; k++) expect(row[k]).toBeCloseTo(expected[i][k], 4);
      });
    }
  });

  it('distils a smaller student from the teacher soft labels', async () => {
    const trained = await fullPromise;
    const teacher = await TfjsClassifier.create(trained.data, trained.head, { kernelBackend: KERNEL });
    try {
      const studentSpec = { ...teacherData.spec, nLayers: 1 };
      await expect(
        distillClassifier(teacher, {
          backbone: { spec: teacherData.spec, tokenizer: teacherData.tokenizer },
          examples: train,
          maxParamRatio: 0.6,
          kernelBackend: KERNEL,
        }),
      ).rejects.toMatchObject({ field: 'backbone' });
      const student = await distillClassifier(teacher, {
        backbone: { spec: studentSpec, tokenizer: teacherData.tokenizer },
        examples: train,
        epochs: 6,
        batchSize: 16,
        learningRate: 3e-3,
        temperature: 2,
        alpha: 0.7,
        kernelBackend: KERNEL,
      });
      expect(student.data.spec.nLayers).toBe(1);
      const h = student.stats.lossHistory;
      expect(mean(h.slice(-6))).toBeLessThan(mean(h.slice(0, 6)));
    } finally {
      teacher.dispose();
    }
  });
});

describe('the same classifier on every backend that can embed', () => {
  it('reference (core TextClassifier) and tfjs agree on predictions and embeddings', async () => {
    const trained = await fullPromise;
    const texts = held.map((e) => e.text);
    const reference = await createReferenceBackend().load(trained.data);
    const tfjs = await TfjsClassifier.create(trained.data, trained.head, { kernelBackend: KERNEL });
    try {
      const a = await new TextClassifier(reference, trained.head).classify(texts);
      const b = await tfjs.classify(texts);
      expect(b.map((p) => p.label)).toEqual(a.map((p) => p.label));
      b.forEach((p, i) => {
        expect(p.probabilities.pos).toBeCloseTo(a[i].probabilities.pos, 4);
      });
      const ea = await embed(reference, texts.slice(0, 8));
      const eb = await tfjs.embed(texts.slice(0, 8));
      ea.forEach((v, i) => {
        expect(cosineSimilarity(v, eb[i])).toBeGreaterThanOrEqual(0.999);
      });
    } finally {
      tfjs.dispose();
      await reference.dispose();
    }
  });
});

describe('bad input', () => {
  it('rejects empty texts, names missing labels and bad rows, truncates long texts with a warning', async () => {
    const base = { backbone: teacherData, mode: 'full' as const, kernelBackend: KERNEL, epochs: 1 };
    await expect(
      trainClassifier({ ...base, examples: [...train.slice(0, 4), { text: ' ', label: 'pos', line: 9 }] }),
    ).rejects.toThrow(/line 9 is empty/);
    await expect(
      trainClassifier({ ...base, examples: train.slice(0, 4), labels: ['pos', 'neg', 'neutral'] }),
    ).rejects.toThrow(/"neutral" missing from the data/);
    await expect(trainClassifier({ ...base, examples: train.filter((e) => e.label === 'pos') })).rejects.toThrow(
      /at least two labels/,
    );
    await expect(trainClassifier({ ...base, examples: train, tokenDropout: 1 })).rejects.toMatchObject({
      field: 'tokenDropout',
    });
    const warnings: string[] = [];
    const long = `${'good '.repeat(200)}film`;
    const trained = await trainClassifier({
      ...base,
      mode: 'head',
      examples: [...train.slice(0, 8), { text: long, label: 'pos', line: 99 }],
      maxLength: 32,
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings).toEqual([expect.stringMatching(/line 99 has \d+ tokens; truncated to 32/)]);
    expect(trained.stats.truncated).toBe(1);
    const classifier = await TfjsClassifier.create(trained.data, trained.head, { kernelBackend: KERNEL });
    try {
      const seen: string[] = [];
      const [p] = await classifier.classify([long], { onWarning: (w) => seen.push(w) });
      expect(seen[0]).toMatch(/texts\[0\] has \d+ tokens; truncated to 32/);
      expect(p.probabilities.pos + p.probabilities.neg).toBeCloseTo(1, 6);
      await expect(classifier.classify([''])).rejects.toMatchObject({ field: 'texts[0]' });
      const controller = new AbortController();
      controller.abort();
      await expect(classifier.classify(['good'], { signal: controller.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
    } finally {
      classifier.dispose();
    }
    const dir = await mkdtemp(join(tmpdir(), 'slm-tsv-'));
    dirs.push(dir);
    await writeFile(join(dir, 'bad.tsv'), 'sentence\tlabel\ngood film\t1\nno label here\n');
    expect(() => parseLabelledTsv('sentence\tlabel\ngood film\t1\nno label here\n', { file: 'bad.tsv' })).toThrow(
      /line 3/,
    );
  });
});
