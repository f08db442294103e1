import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { goldenContinuations } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';
import { loadCommands } from './commands/index.js';
import { runCli } from './test-io.test-helpers.js';

const paths = stories260KPaths();

describe('slm generate on stories260K', () => {
  it.skipIf(!paths).each(['default', 'reference', 'llamacpp', 'onnx', 'tfjs'])(
    `with backend %s prints the llama2.c reference continuation ${paths ? '' : SHARED_MISSING_REASON}`,
    async (backend) => {
      const run = await runCli([
        'generate',
        ...(backend === 'default' ? [] : ['--backend', backend]),
        '--model',
        paths!.model,
        '--tokenizer',
        paths!.tokenizer,
        '--prompt',
        'Once upon a time',
        '--max-tokens',
        '60',
        '--temperature',
        '0',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${goldenContinuations.stories260K.text}\n`);
    },
  );

  it.skipIf(!paths)('--json prints one object with text, tokens, promptTokens, finishReason and timings', async () => {
    const run = await runCli([
      'generate',
      '--model',
      paths!.model,
      '--tokenizer',
      paths!.tokenizer,
      '--prompt',
      'Once upon a time',
      '--max-tokens',
      '10',
      '--temperature',
      '0',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result.tokens).toEqual(goldenContinuations.stories260K.ids.slice(0, 10));
    expect(result.promptTokens).toBe(5);
    expect(result.finishReason).toBe('length');
    expect(result.timings.decodeTokensPerSecond).toBeGreaterThan(0);
    expect(goldenContinuations.stories260K.text.startsWith(result.text)).toBe(true);
  });

  it.skipIf(!paths)('tokenize prints ids, matching the golden prompt', async () => {
    const run = await runCli(['tokenize', '--tokenizer', paths!.tokenizer, 'Once upon a time']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([1, 403, 407, 261, 378]);
  });
});

describe('the default model', () => {
  it("slm generate without --model runs slmkit's default model, the same greedy ids on llama.cpp and the reference backend", async () => {
    const args = ['generate', '--prompt', 'Call me Ishmael.', '--max-tokens', '12', '--temperature', '0', '--json'];
    const fast = await runCli(args);
    const reference = await runCli([...args, '--backend', 'reference']);
    expect(fast.code).toBe(0);
    expect(reference.code).toBe(0);
    const a = JSON.parse(fast.stdout);
    const b = JSON.parse(reference.stdout);
    expect(a.tokens.length).toBeGreaterThan(0);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.backend.backend).toBe('llamacpp');
  });
});

describe('slm bad input: one clear line, non-zero exit, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slm-cli-'));
  const empty = join(dir, 'empty.bin');
  writeFileSync(empty, '');
  const truncated = join(dir, 'truncated.bin');
  const header = new Int32Array([64, 172, 5, 8, 4, 512, 512]);
  writeFileSync(truncated, Buffer.concat([Buffer.from(header.buffer), Buffer.alloc(1000)]));
  const cases: Array<[string, string[], RegExp]> = [
    ['a missing file', ['generate', '--model', join(dir, 'nope.gguf')], /does not exist/],
    ['a directory', ['generate', '--model', dir], /folder|directory/],
    ['an empty file', ['generate', '--model', empty], /empty/],
    ['a truncated checkpoint', ['generate', '--model', truncated, '--tokenizer', truncated], /truncated/],
    ['an unknown flag', ['generate', '--bogus'], /Unknown option '--bogus'/],
    ['an unknown command', ['frobnicate'], /unknown command/],
    ['a bad number', ['generate', '--model', empty, '--max-tokens', 'ten'], /--max-tokens.*"ten"/],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const run = await runCli(argv);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });
  it('--verbose adds the stack trace', async () => {
    const run = await runCli(['generate', '--model', empty, '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\n\s+at /);
  });
});

describe('slm help', () => {
  it('every command has --help', async () => {
    for (const command of await loadCommands()) {
      const run = await runCli([command.name, '--help']);
      expect(run.code, command.name).toBe(0);
      expect(run.stdout).toContain(`Usage: slm ${command.name}`);
    }
  });
  it('slm --help lists the commands', async () => {
    const run = await runCli(['--help']);
    expect(run.stdout).toMatch(/generate[\s\S]*tokenize[\s\S]*inspect/);
  });
});

describe('the built bin', () => {
  it.skipIf(!paths)('runs as a process and keeps stdout for the result', async () => {
    const bin = new URL('../dist/bin.js', import.meta.url).pathname;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      bin,
      'generate',
      '--model',
      paths!.model,
      '--tokenizer',
      paths!.tokenizer,
      '--prompt',
      'Once upon a time',
      '--max-tokens',
      '5',
      '--temperature',
      '0',
    ]);
    expect(stderr).toBe('');
    expect(goldenContinuations.stories260K.text.startsWith(stdout.trimEnd())).toBe(true);
  });
});
