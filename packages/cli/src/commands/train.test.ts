import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.test-helpers.js';

let dir: string;
const text = Array.from(
  { length: 200 },
  (_, i) => `The whale swam in the deep sea, and the ship sailed on ${i % 9}.`,
).join('\n\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slm-cli-train-'));
  await writeFile(join(dir, 'train.txt'), text);
  await writeFile(join(dir, 'val.txt'), text.slice(0, 3000));
  await writeFile(join(dir, 'empty.txt'), '');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('slm train / finetune', () => {
  it('trains from a data folder and a tokenizer, exports a model that `slm generate --backend tfjs` runs', async () => {
    const tok = await runCli([
      'tokenizer',
      'train',
      join(dir, 'train.txt'),
      '--vocab-size',
      '300',
      '--kind',
      'spm',
      '--out',
      join(dir, 'tok'),
    ]);
    expect(tok.code).toBe(0);
    const out = join(dir, 'run');
    const train = await runCli([
      'train',
      '--data',
      dir,
      '--tokenizer',
      join(dir, 'tok'),
      '--preset',
      '0.3m',
      '--steps',
      '3',
      '--batch-size',
      '2',
      '--seq-len',
      '16',
      '--out',
      out,
      '--json',
    ]);
    expect(train.stderr).not.toMatch(/Error/);
    expect(train.code).toBe(0);
    const result = JSON.parse(train.stdout) as { model: string; steps: number; finalLoss: number };
    expect(result.steps).toBe(3);
    expect(Number.isFinite(result.finalLoss)).toBe(true);
    expect((await stat(join(out, 'loss-curve.svg'))).size).toBeGreaterThan(0);
    const gen = await runCli([
      'generate',
      '--backend',
      'tfjs',
      '--model',
      result.model,
      '--prompt',
      'The whale',
      '--max-tokens',
      '4',
      '--temperature',
      '0',
    ]);
    expect(gen.code).toBe(0);
    const resumed = await runCli([
      'train',
      '--data',
      dir,
      '--tokenizer',
      join(dir, 'tok'),
      '--preset',
      '0.3m',
      '--steps',
      '4',
      '--batch-size',
      '2',
      '--seq-len',
      '16',
      '--out',
      out,
      '--resume',
      '--json',
    ]);
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as { steps: number }).steps).toBe(4);
  });

  it('runs the default recipe end to end (data, tokenizer, training, export) with overrides for a short run', async () => {
    const out = join(dir, 'recipe');
    const run = await runCli([
      'train',
      '--recipe',
      'default',
      '--steps',
      '1',
      '--batch-size',
      '2',
      '--seq-len',
      '32',
      '--out',
      out,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { model: string; metrics: string; steps: number };
    expect(result.steps).toBe(1);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json'])
      expect((await stat(join(result.model, f))).size).toBeGreaterThan(0);
    expect((await stat(result.metrics)).size).toBeGreaterThan(0);
  });

  it('fails with a typed message on an empty corpus', async () => {
    const run = await runCli([
      'train',
      '--train',
      join(dir, 'empty.txt'),
      '--tokenizer',
      join(dir, 'tok'),
      '--preset',
      '0.3m',
      '--out',
      join(dir, 'bad'),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/empty/);
  });

  it.skipIf(!stories260KPaths())(
    'fine-tunes stories260K with LoRA and reports validation loss before and after',
    async () => {
      const paths = stories260KPaths() as { model: string; tokenizer: string };
      const run = await runCli([
        'finetune',
        '--model',
        paths.model,
        '--tokenizer',
        paths.tokenizer,
        '--data',
        dir,
        '--lora',
        '4',
        '--steps',
        '2',
        '--batch-size',
        '2',
        '--seq-len',
        '32',
        '--out',
        join(dir, 'ft'),
        '--json',
      ]);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as { valLossBefore: number; valLossAfter: number };
      expect(Number.isFinite(result.valLossBefore) && Number.isFinite(result.valLossAfter)).toBe(true);
    },
  );
});
