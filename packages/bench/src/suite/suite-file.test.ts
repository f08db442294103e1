import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandCells, readSuite, validateSuite } from './suite-file.js';

const suitesDir = fileURLToPath(new URL('../../suites/', import.meta.url));

describe('suite files', () => {
  it('names the field at fault', () => {
    expect(() =>
      validateSuite(
        { name: 'x', models: [], backends: [{ id: 'a' }], scenarios: [{ id: 's', type: 'speed' }] },
        'f.json',
      ),
    ).toThrow(/f\.json, field "models": must be a non-empty array/);
    expect(() =>
      validateSuite(
        {
          name: 'x',
          models: [{ id: 'm', path: 'p' }],
          backends: [{ id: 'a' }],
          scenarios: [{ id: 's', type: 'nope' }],
        },
        'f.json',
      ),
    ).toThrow(/scenarios\[0\]\.type/);
    expect(() =>
      validateSuite({
        name: 'x',
        models: [
          { id: 'm', path: 'p' },
          { id: 'm', path: 'q' },
        ],
        backends: [{ id: 'a' }],
        scenarios: [{ id: 's', type: 'speed' }],
      }),
    ).toThrow(/duplicate id "m"/);
    expect(() =>
      validateSuite({
        name: 'x',
        models: [{ id: 'm' }],
        backends: [{ id: 'a' }],
        scenarios: [{ id: 's', type: 'speed' }],
      }),
    ).toThrow(/needs one of path/);
  });

  it('expands models x backends x scenarios, minus exclusions and what peers cannot run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slm-suite-'));
    try {
      const file = join(dir, 's.json');
      await writeFile(
        file,
        JSON.stringify({
          name: 's',
          settings: { minRepetitions: 5 },
          models: [
            { id: 'a', random: { preset: 'tiny' } },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the suite file's own placeholder syntax
            { id: 'b', path: '${suite}/b.bin' },
          ],
          backends: [{ id: 'reference' }, { id: 'nlc', kind: 'node-llama-cpp' }],
          scenarios: [
            { id: 'speed', type: 'speed' },
            { id: 'ppl', type: 'perplexity', text: 'x' },
          ],
          exclude: [{ model: 'b', backend: 'reference', reason: 'because' }],
        }),
      );
      const { cells, skipped } = expandCells(await readSuite(file), join(dir, 'cache'), { threads: 3 });
      expect(cells.map((c) => `${c.model.id}/${c.backend.id}/${c.scenario.id}`)).toEqual([
        'a/reference/speed',
        'a/reference/ppl',
        'a/nlc/speed',
        'b/nlc/speed',
      ]);
      expect(cells[3].model.path).toBe(join(dir, 'b.bin'));
      expect(cells[0].settings).toMatchObject({ minRepetitions: 5, threads: 3, warmup: 1 });
      expect(skipped.map((s) => `${s.model}/${s.backend}/${s.scenario}: ${s.reason}`)).toEqual([
        'a/nlc/ppl: node-llama-cpp peers run speed and generate scenarios only',
        'b/reference/speed: because',
        'b/reference/ppl: because',
        'b/nlc/ppl: node-llama-cpp peers run speed and generate scenarios only',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts the committed suites', async () => {
    for (const name of ['quick.json', 'sweep.json', 'slm-vs-llm.json']) {
      const loaded = await readSuite(join(suitesDir, name));
      expect(loaded.suite.name).toBe(name.replace('.json', ''));
    }
    expect(
      JSON.parse(await readFile(join(suitesDir, 'quick.json'), 'utf8')).backends.map((b: { id: string }) => b.id),
    ).toEqual(['reference', 'llamacpp', 'onnx', 'tfjs', 'node-llama-cpp', 'transformers.js', 'slm-serve']);
  });
});
