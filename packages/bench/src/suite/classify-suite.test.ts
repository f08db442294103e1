import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandCells, readSuite, validateSuite } from './suite-file.js';

const base = {
  name: 'c',
  models: [
    { id: 'teacher', path: '/m/teacher' },
    { id: 'student', path: '/m/student', distilledFrom: 'teacher' },
  ],
  scenarios: [
    { id: 'dev', type: 'classify', file: '/d/dev.tsv' },
    { id: 'speed', type: 'speed' },
  ],
};

describe('classify suites', () => {
  it('names a missing file and an unknown lexicon', () => {
    expect(() =>
      validateSuite({ ...base, backends: [{ id: 'r' }], scenarios: [{ id: 'dev', type: 'classify' }] }, 'f.json'),
    ).toThrow(/field "scenarios\[0\]\.file": a classify scenario needs a labelled TSV file/);
    expect(() =>
      validateSuite({ ...base, backends: [{ id: 'l', kind: 'lexicon', lexicon: 'textblob' }] }, 'f.json'),
    ).toThrow(/field "backends\[0\]\.lexicon": must be vader or afinn/);
  });

  it('runs lexicons and the tfjs classifier on classify scenarios only, and keeps generation peers off them', () => {
    const suite = validateSuite({
      ...base,
      backends: [
        { id: 'reference' },
        { id: 'afinn', kind: 'lexicon', lexicon: 'afinn' },
        { id: 'tfjs-classifier', kind: 'tfjs-classifier' },
        { id: 'nlc', kind: 'node-llama-cpp' },
      ],
      exclude: [{ model: 'student', backend: 'afinn', reason: 'once is enough' }],
    });
    const { cells, skipped } = expandCells({ suite, file: '/s/suite.json', dir: '/s' }, '/cache');
    const ran = cells.map((c) => `${c.model.id}/${c.backend.id}/${c.scenario.id}`);
    expect(ran).toEqual([
      'teacher/reference/dev',
      'teacher/reference/speed',
      'teacher/afinn/dev',
      'teacher/tfjs-classifier/dev',
      'teacher/nlc/speed',
      'student/reference/dev',
      'student/reference/speed',
      'student/tfjs-classifier/dev',
      'student/nlc/speed',
    ]);
    const why = Object.fromEntries(skipped.map((s) => [`${s.model}/${s.backend}/${s.scenario}`, s.reason]));
    expect(why['teacher/afinn/speed']).toBe('lexicon backends run classify scenarios only');
    expect(why['teacher/nlc/dev']).toBe('node-llama-cpp peers cannot run classify scenarios');
    expect(why['student/afinn/dev']).toBe('once is enough');
    expect(cells.find((c) => c.model.id === 'student')?.model.distilledFrom).toBe('teacher');
  });
});

describe('suites/sst2.json', () => {
  it('runs teacher and student on every embedding backend and the tfjs classifier, each lexicon once', async () => {
    const loaded = await readSuite(fileURLToPath(new URL('../../suites/sst2.json', import.meta.url)));
    const { cells, skipped } = expandCells(loaded, '/cache');
    if (skipped.some((s) => /needs \.\.\/shared/.test(s.reason))) return; // a user clone without ../shared
    const ran = cells.map((c) => `${c.model.id}/${c.backend.id}`);
    expect(ran).toEqual([
      ...['reference', 'tfjs', 'llamacpp', 'onnx', 'tfjs-classifier', 'vader-sentiment', 'sentiment-afinn'].map(
        (b) => `sst2-teacher/${b}`,
      ),
      ...['reference', 'tfjs', 'llamacpp', 'onnx', 'tfjs-classifier'].map((b) => `sst2-student/${b}`),
    ]);
    expect(cells.find((c) => c.model.id === 'sst2-student')?.model.distilledFrom).toBe('sst2-teacher');
  });
});
