import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRandomModel } from '../testing/random-model.js';
import { createReferenceBackend } from '../testing/reference-backend.js';
import { SHARED_MISSING_REASON, sharedPath } from '../testing/shared-data.js';
import { cosineSimilarity, embed } from './embed.js';
import { scoreContinuation } from './log-likelihood.js';
import { applyClassifierHead, TextClassifier } from './text-classifier.js';
import { parseLabelledTsv } from './tsv-dataset.js';
import { classifyZeroShot } from './zero-shot.js';

const data = createRandomModel({ seed: 21, tiedEmbeddings: false });
const modelPromise = createReferenceBackend().load(data);

describe('zero-shot classification', () => {
  it('picks the label whose verbaliser the model finds most likely', async () => {
    const model = await modelPromise;
    const labels = [{ label: 'positive' }, { label: 'negative' }];
    const [prediction] = await classifyZeroShot(model, ['a fine film'], labels);
    const prompt = 'Review: a fine film\nSentiment:';
    const pos = (await scoreContinuation(model, prompt, ' positive')).logprob;
    const neg = (await scoreContinuation(model, prompt, ' negative')).logprob;
    expect(prediction.label).toBe(pos > neg ? 'positive' : 'negative');
    expect(prediction.probabilities.positive + prediction.probabilities.negative).toBeCloseTo(1, 9);
    expect(prediction.probabilities.positive / prediction.probabilities.negative).toBeCloseTo(Math.exp(pos - neg), 6);
  });
  it('rejects empty texts and single labels', async () => {
    const model = await modelPromise;
    await expect(classifyZeroShot(model, [' '], [{ label: 'a' }, { label: 'b' }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(classifyZeroShot(model, ['x'], [{ label: 'a' }])).rejects.toMatchObject({ field: 'labels' });
  });
});

describe('embeddings and the classifier head', () => {
  it('embed truncates over-long texts with a warning', async () => {
    const model = await modelPromise;
    const warnings: string[] = [];
    const [v] = await embed(model, ['word '.repeat(400)], { onWarning: (w) => warnings.push(w) });
    expect(warnings[0]).toMatch(/truncated/);
    expect(v.length).toBe(model.spec.dim);
    const [a, b] = await embed(model, ['same text', 'same text']);
    expect(cosineSimilarity(a, b)).toBeCloseTo(1, 9);
    await expect(embed(model, [''])).rejects.toMatchObject({ field: 'texts[0]' });
  });
  it('TextClassifier applies the head to unnormalised pooled states', async () => {
    const model = await modelPromise;
    const dim = model.spec.dim;
    const weight = new Float32Array(2 * dim);
    for (let i = 0; i < dim; i++) {
      weight[i] = 1;
      weight[dim + i] = -1;
    }
    const head = { labels: ['up', 'down'], pooling: 'mean' as const, weight, bias: Float32Array.of(0, 0), dim };
    const classifier = new TextClassifier(model, head);
    const [p] = await classifier.classify(['hello there']);
    const [v] = await embed(model, ['hello there'], { normalize: false });
    const sum = v.reduce((a, b) => a + b, 0);
    expect(p.label).toBe(sum > 0 ? 'up' : 'down');
    expect(p).toEqual(applyClassifierHead(head, v));
    expect(() => new TextClassifier(model, { ...head, dim: dim + 1 })).toThrow(/head/);
  });
});

describe('labelled TSV', () => {
  it('names the line of a bad row and unknown labels', () => {
    expect(() => parseLabelledTsv('sentence\tlabel\ngood\t1\nno tab here\n')).toThrow(/line 3/);
    expect(() => parseLabelledTsv('sentence\tlabel\ngood\t7\n', { labels: ['0', '1'] })).toThrow(/line 2: label "7"/);
    expect(() => parseLabelledTsv('sentence\tlabel\n')).toThrow(/no rows/);
  });
  const dev = sharedPath('datasets', 'sst2', 'dev.tsv');
  it.skipIf(!dev)(`reads the SST-2 dev set ${dev ? '' : SHARED_MISSING_REASON}`, () => {
    const rows = parseLabelledTsv(readFileSync(dev!, 'utf8'), { labels: ['0', '1'] });
    expect(rows).toHaveLength(872);
    expect(new Set(rows.map((r) => r.label))).toEqual(new Set(['0', '1']));
  });
});
