import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGgufForLlama } from '@slmkit/core';
import { loadModelData, openGgufFile, writeHfFolder } from '@slmkit/core/node';
import { goldenContinuations } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.test-helpers.js';

const paths = stories260KPaths();
const dir = mkdtempSync(join(tmpdir(), 'slm-convert-'));
const previousCache = process.env.SLMKIT_CACHE_DIR;
beforeAll(() => {
  process.env.SLMKIT_CACHE_DIR = join(dir, 'cache');
});
afterAll(() => {
  if (previousCache === undefined) delete process.env.SLMKIT_CACHE_DIR;
  else process.env.SLMKIT_CACHE_DIR = previousCache;
  rmSync(dir, { recursive: true, force: true });
});

async function ggufWeightTypes(path: string): Promise<Set<string>> {
  const file = await openGgufFile(path);
  try {
    validateGgufForLlama(file);
    return new Set(file.tensors.filter((t) => t.shape.length > 1).map((t) => t.dtype ?? String(t.ggmlType)));
  } finally {
    await file.close();
  }
}

describe.skipIf(!paths)(
  `slm convert --to gguf and slm generate --backend llamacpp ${paths ? '' : SHARED_MISSING_REASON}`,
  () => {
    const f32 = join(dir, 'stories-f32.gguf');

    it('converts llama2.c to GGUF (result path on stdout, progress on stderr) and generates the reference text from it', async () => {
      const run = await runCli([
        'convert',
        paths!.model,
        '--tokenizer',
        paths!.tokenizer,
        '--to',
        'gguf',
        '--out',
        f32,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${f32}\n`);
      expect(run.stderr).toMatch(/convert -> gguf/);
      expect(await ggufWeightTypes(f32)).toEqual(new Set(['f32']));
      const gen = await runCli([
        'generate',
        '--backend',
        'llamacpp',
        '--model',
        f32,
        '--prompt',
        'Once upon a time',
        '--max-tokens',
        '60',
        '--temperature',
        '0',
      ]);
      expect(gen.code, gen.stderr).toBe(0);
      expect(gen.stdout).toBe(`${goldenContinuations.stories260K.text}\n`);
    });

    it('re-quantizes a GGUF to f16 and q8_0; both load and generate', async () => {
      for (const quantize of ['f16', 'q8_0']) {
        const out = join(dir, `stories-${quantize}.gguf`);
        const run = await runCli(['convert', f32, '--to', 'gguf', '--out', out, '--quantize', quantize, '--json']);
        expect(run.code, run.stderr).toBe(0);
        const result = JSON.parse(run.stdout);
        expect(result).toMatchObject({ path: out, from: 'gguf', to: 'gguf' });
        expect(result.bytes).toBe(statSync(out).size);
        expect((await ggufWeightTypes(out)).has(quantize)).toBe(true);
        expect(statSync(out).size).toBeLessThan(statSync(f32).size);
        const gen = await runCli([
          'generate',
          '--backend',
          'llamacpp',
          '--model',
          out,
          '--prompt',
          'Once upon a time',
          '--max-tokens',
          '20',
          '--temperature',
          '0',
          '--json',
        ]);
        expect(gen.code, gen.stderr).toBe(0);
        const generated = JSON.parse(gen.stdout);
        expect(generated.tokens).toHaveLength(20);
        expect(generated.backend.weightType).toBe(quantize);
      }
    });

    it('converts a safetensors folder (HF layout, half RoPE) to GGUF that reproduces the reference text', async () => {
      const folder = join(dir, 'stories-hf');
      await writeHfFolder(folder, await loadModelData({ path: paths!.model, tokenizerPath: paths!.tokenizer }));
      const out = join(dir, 'from-safetensors.gguf');
      const run = await runCli([
        'convert',
        folder,
        '--tokenizer',
        paths!.tokenizer,
        '--to',
        'gguf',
        '--out',
        out,
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).from).toBe('safetensors-folder');
      const gen = await runCli([
        'generate',
        '--backend',
        'llamacpp',
        '--model',
        out,
        '--prompt',
        'Once upon a time',
        '--max-tokens',
        '60',
        '--temperature',
        '0',
      ]);
      expect(gen.code, gen.stderr).toBe(0);
      expect(gen.stdout).toBe(`${goldenContinuations.stories260K.text}\n`);
    });

    it('generates 100 greedy tokens from the llama2.c files directly (converted on the fly into the cache)', async () => {
      const gen = await runCli([
        'generate',
        '--backend',
        'llamacpp',
        '--model',
        paths!.model,
        '--tokenizer',
        paths!.tokenizer,
        '--prompt',
        'Once upon a time',
        '--max-tokens',
        '100',
        '--temperature',
        '0',
        '--json',
      ]);
      expect(gen.code, gen.stderr).toBe(0);
      const result = JSON.parse(gen.stdout);
      expect(result.tokens.slice(0, 60)).toEqual(goldenContinuations.stories260K.ids);
      expect(result.tokens).toHaveLength(100);
      expect(result.backend.details.converted).toBe(true);
      const ref = await runCli([
        'generate',
        '--backend',
        'reference',
        '--model',
        paths!.model,
        '--tokenizer',
        paths!.tokenizer,
        '--prompt',
        'Once upon a time',
        '--max-tokens',
        '100',
        '--temperature',
        '0',
        '--json',
      ]);
      expect(JSON.parse(ref.stdout).tokens).toEqual(result.tokens);
    });

    it('rejects bad requests with one clear line and a non-zero exit', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['convert', f32, '--out', join(dir, 'x.gguf')], /--to is required/],
        [['convert', f32, '--to', 'tflite', '--out', join(dir, 'x.gguf')], /unknown format "tflite"/],
        [['convert', f32, '--to', 'gguf', '--out', join(dir, 'x.gguf'), '--quantize', 'q2_k'], /q2_k/],
        [['convert', f32, '--to', 'gguf'], /--out/],
        [
          ['convert', join(dir, 'missing.bin'), '--to', 'gguf', '--out', join(dir, 'x.gguf')],
          /does not exist|not found/i,
        ],
      ];
      for (const [argv, message] of cases) {
        const run = await runCli(argv);
        expect(run.code, argv.join(' ')).not.toBe(0);
        expect(run.stderr).toMatch(message);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
    });
  },
);
