import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, InvalidArgumentError } from '@slmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetDocuments } from './dataset-files.js';
import { processDocuments } from './pipeline.js';
import { prepareDataset } from './prepare-dataset.js';

let dir: string;
const unique = (i: number) =>
  `Paragraph ${i} tells of voyage number ${i * 7} where the crew of ${i % 13} sailors met ${i * 3} whales near island ${i % 17}.`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slm-data-e2e-'));
  await mkdir(join(dir, 'in'));
  const paragraphs = Array.from({ length: 200 }, (_, i) => unique(i));
  paragraphs.push(unique(5)); // exact duplicate
  paragraphs.push(`  ${unique(6).toUpperCase()}  `); // exact up to case and whitespace
  const long = Array.from({ length: 8 }, (_, i) => unique(1000 + i)).join(' ');
  paragraphs.push(long);
  paragraphs.push(long.replace('sailors', 'seamen')); // near duplicate: one word of ~150 changed
  paragraphs.push('tiny'); // too short
  paragraphs.push('spam spam eggs '.repeat(20)); // repetitive
  paragraphs.push('<p>Some <b>markup</b> &amp; a\u0007 bell in a paragraph that is long enough.</p>');
  await writeFile(join(dir, 'in', 'book.txt'), paragraphs.join('\n\n'));
  await writeFile(join(dir, 'in', 'more.jsonl'), `${JSON.stringify({ body: unique(500) })}\n{broken\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of readDatasetDocuments(path)) out.push(d);
  return out;
}

describe('prepareDataset', () => {
  it('cleans, filters, de-duplicates, splits and writes stats', async () => {
    const outDir = join(dir, 'out-txt');
    const { stats, files } = await prepareDataset({
      inputs: ['in'],
      cwd: dir,
      outDir,
      jsonlField: 'body',
      valFraction: 0.2,
      countTokens: (t) => t.split(/\s+/).length,
    });
    expect(stats.files).toBe(2);
    expect(stats.documentsRead).toBe(208);
    expect(stats.invalidRecords).toBe(1);
    expect(stats.filtered['too-short']).toBe(1);
    expect(stats.filtered.repetitive).toBe(1);
    expect(stats.duplicates).toEqual({ exact: 2, near: 1 });
    expect(stats.kept.documents).toBe(203);
    const train = await readAll(files.train);
    const val = await readAll(files.val);
    expect(train.length + val.length).toBe(203);
    expect(stats.splits.train.documents).toBe(train.length);
    expect(val.length).toBeGreaterThan(20);
    expect(val.length).toBeLessThan(65);
    expect(new Set([...train, ...val]).size).toBe(203);
    expect([...train, ...val]).toContain('Some markup & a bell in a paragraph that is long enough.');
    expect(stats.kept.tokens).toBe([...train, ...val].reduce((n, t) => n + t.split(/\s+/).length, 0));
    expect(stats.kept.characters).toBe([...train, ...val].reduce((n, t) => n + t.length, 0));
    const written = JSON.parse(await readFile(files.stats, 'utf8'));
    expect(written.duplicates).toEqual({ exact: 2, near: 1 });
    expect(written.inputs).toEqual(['in']);
  });

  it('splits deterministically, whatever the input order, and writes JSONL', async () => {
    const docs = Array.from({ length: 300 }, (_, i) => ({ text: unique(i), source: 'x' }));
    const run = async (order: typeof docs) => {
      const val: string[] = [];
      for await (const d of processDocuments(order, { valFraction: 0.3 })) if (d.split === 'val') val.push(d.text);
      return val.sort();
    };
    expect(await run(docs)).toEqual(await run([...docs].reverse()));

    const { files } = await prepareDataset({
      inputs: ['in/book.txt'],
      cwd: dir,
      outDir: join(dir, 'out-jsonl'),
      format: 'jsonl',
    });
    const lines = (await readFile(files.train, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines[0])).toEqual({ text: unique(0) });
  });

  it('rejects bad options and honours abort', async () => {
    await expect(
      prepareDataset({ inputs: ['in'], cwd: dir, outDir: join(dir, 'x'), valFraction: 2 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    const controller = new AbortController();
    controller.abort();
    const docs = Array.from({ length: 600 }, (_, i) => ({ text: unique(i), source: 'x' }));
    const gen = processDocuments(docs, { signal: controller.signal });
    await expect(
      (async () => {
        for await (const _ of gen) {
          /* drain */
        }
      })(),
    ).rejects.toBeInstanceOf(AbortError);
  });
});
