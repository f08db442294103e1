import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.test-helpers.js';

let dir: string;

/** The label follows the cue word; the rest is filler. */
function tsv(n: number, offset: number): string {
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'it', 'story'];
  const cue = { 1: ['good', 'great', 'fine'], 0: ['bad', 'awful', 'dull'] };
  const rows = Array.from({ length: n }, (_, i) => {
    const label = (i % 2) as 0 | 1;
    const k = i + offset;
    const words = [filler[k % 8], filler[(k * 3 + 1) % 8], cue[label][k % 3], filler[(k * 5 + 2) % 8]];
    return `${words.join(' ')}\t${label}`;
  });
  return `sentence\tlabel\n${rows.join('\n')}\n`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slm-cli-classify-'));
  await writeFile(join(dir, 'train.tsv'), tsv(96, 0));
  await writeFile(join(dir, 'dev.tsv'), tsv(24, 7));
  await writeFile(join(dir, 'bad.tsv'), 'sentence\tlabel\ngood film\t1\nbad film\t0\nno label on this row\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('slm finetune --task classify', () => {
  it('trains from scratch, saves HF folder + head (+ GGUF), then distils a student from it', async () => {
    const out = join(dir, 'teacher');
    const common = [
      '--data',
      join(dir, 'train.tsv'),
      '--val',
      join(dir, 'dev.tsv'),
      '--epochs',
      '6',
      '--batch-size',
      '16',
      '--lr',
      '3e-3',
      '--json',
    ];
    const run = await runCli([
      'finetune',
      '--task',
      'classify',
      ...common,
      '--out',
      out,
      '--dim',
      '32',
      '--layers',
      '2',
      '--vocab-size',
      '300',
      '--gguf',
    ]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { valAccuracy: number; labels: string; steps: number; gguf: string };
    expect(result.labels).toBe('0,1');
    expect(result.steps).toBe(36);
    expect(result.valAccuracy).toBeGreaterThanOrEqual(0.8);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'classifier-head.json', 'model.gguf']) {
      expect((await stat(join(out, f))).size).toBeGreaterThan(0);
    }
    expect(JSON.parse(await readFile(join(out, 'classifier-head.json'), 'utf8')).labels).toEqual(['0', '1']);
    const student = await runCli([
      'finetune',
      '--task',
      'classify',
      ...common,
      '--out',
      join(dir, 'student'),
      '--teacher',
      out,
      '--dim',
      '16',
      '--layers',
      '1',
    ]);
    expect(student.code).toBe(0);
    expect(JSON.parse(student.stdout).mode).toBe('distill');
  });

  it('names the bad line of a TSV and refuses head-only training without a model', async () => {
    const bad = await runCli([
      'finetune',
      '--task',
      'classify',
      '--data',
      join(dir, 'bad.tsv'),
      '--out',
      join(dir, 'x'),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/line 4/);
    const head = await runCli([
      'finetune',
      '--task',
      'classify',
      '--data',
      join(dir, 'train.tsv'),
      '--out',
      join(dir, 'y'),
      '--mode',
      'head',
    ]);
    expect(head.code).not.toBe(0);
    expect(head.stderr).toMatch(/--model/);
  });
});
