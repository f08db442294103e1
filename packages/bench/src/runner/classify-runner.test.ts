import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASSIFIER_HEAD_FILE, classifierHeadToJson, embed } from '@slmkit/core';
import { writeHfFolder } from '@slmkit/core/node';
import { createRandomModel, createReferenceBackend, RANDOM_MODEL_PRESETS } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../report/markdown.js';
import { validateSuite } from '../suite/suite-file.js';
import { runSuite } from './runner.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const TEXTS = [
  'a wonderful , moving film',
  'great acting and a beautiful story',
  'an awful , boring mess',
  'terrible and dull',
  'the best film of the year',
  'i hated every minute',
];
const GOLD = ['1', '1', '0', '0', '1', '0'];

/**
 * A classifier saved as slmkit saves trained ones: HF folder + classifier-head.json. Random weights (fixed seed); the
 * bias puts the decision boundary at the median score of TEXTS, so both labels occur and agreement means something.
 */
async function saveRandomClassifier(dir: string, seed: number, dim: number): Promise<void> {
  const data = createRandomModel({ ...RANDOM_MODEL_PRESETS.tiny, dim, seed, tiedEmbeddings: true });
  await writeHfFolder(dir, data);
  const weight = Float32Array.from({ length: 2 * dim }, (_, i) => Math.sin(i * 7 + seed));
  const model = await createReferenceBackend().load(data);
  const pooled = await embed(model, TEXTS, { normalize: false });
  await model.dispose();
  const margins = pooled
    .map((x) => x.reduce((s, v, c) => s + (weight[dim + c] - weight[c]) * v, 0))
    .sort((a, b) => a - b);
  const bias = Float32Array.from([0, -(margins[2] + margins[3]) / 2]);
  await writeFile(
    join(dir, CLASSIFIER_HEAD_FILE),
    classifierHeadToJson({ labels: ['0', '1'], pooling: 'mean', dim, weight, bias }),
  );
}

describe('classify scenario (real child processes)', () => {
  it('runs classifiers on the reference backend and the tfjs classifier, lexicon peers, and the distil table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slm-bench-classify-'));
    dirs.push(dir);
    await saveRandomClassifier(join(dir, 'teacher'), 3, 64);
    await saveRandomClassifier(join(dir, 'student'), 4, 32);
    const rows = TEXTS.map((t, i) => `${t}\t${GOLD[i]}`);
    await writeFile(join(dir, 'dev.tsv'), `sentence\tlabel\n${rows.join('\n')}\n`);
    const suite = validateSuite({
      name: 'classify',
      settings: { timeoutMs: 120_000 },
      models: [
        { id: 'teacher', path: join(dir, 'teacher') },
        { id: 'student', path: join(dir, 'student'), distilledFrom: 'teacher' },
      ],
      backends: [
        { id: 'reference' },
        { id: 'tfjs-classifier', kind: 'tfjs-classifier' },
        { id: 'vader', kind: 'lexicon', lexicon: 'vader' },
      ],
      scenarios: [{ id: 'dev', type: 'classify', file: join(dir, 'dev.tsv'), latencySentences: 4, batchSize: 4 }],
      exclude: [{ model: 'student', backend: 'vader', reason: 'a lexicon ignores the model: run once' }],
    });
    const result = await runSuite({
      suite: { suite, file: join(dir, 'suite.json'), dir },
      outDir: join(dir, 'out'),
      cacheDir: join(dir, 'cache'),
    });
    const cell = (model: string, backend: string) => {
      const c = result.cells.find((x) => x.model === model && x.backend === backend);
      expect(c?.status, `${model} on ${backend}: ${c?.error}`).toBe('ok');
      return c as NonNullable<typeof c>;
    };
    for (const model of ['teacher', 'student']) {
      const ref = cell(model, 'reference');
      const tfjs = cell(model, 'tfjs-classifier');
      expect(ref.predictions).toHaveLength(6);
      // The same weights and head on two runtimes: the same labels.
      expect(tfjs.predictions).toEqual(ref.predictions);
      expect(new Set(ref.predictions)).toEqual(new Set(['0', '1']));
      expect(ref.metrics.latency_ms_p50).toBeGreaterThan(0);
      expect(ref.metrics.throughput_sps).toBeGreaterThan(0);
      expect(ref.metrics.parameters).toBe(tfjs.metrics.parameters);
    }
    expect(cell('student', 'reference').model_info?.distilledFrom).toBe('teacher');
    expect(cell('teacher', 'reference').metrics.parameters).toBeGreaterThan(
      cell('student', 'reference').metrics.parameters,
    );
    const vader = cell('teacher', 'vader');
    expect(vader.metrics.acc).toBe(1);
    expect(vader.runtime?.backend).toMatch(/^vader-sentiment@/);
    const md = renderMarkdown(result);
    expect(md).toContain('## Text classification');
    expect(md).toMatch(/teacher -> student \| reference \|/);
    expect(md).toMatch(/\| teacher \| tfjs-classifier \| dev \|.*100\.00% \(reference\) \|/);
  }, 180_000);
});
