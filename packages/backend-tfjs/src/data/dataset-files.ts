import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, ModelFormatError } from '@slmkit/core';
import type { DataStats } from './data-stats.js';
import type { ProcessedDocument } from './pipeline.js';
import type { SplitName } from './split.js';
import { readTextLines } from './text-lines.js';

/** `txt`: documents separated by one blank line. `jsonl`: one `{"text": ...}` object per line. */
export type DatasetFormat = 'txt' | 'jsonl';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['txt', 'jsonl'];

export function splitFileName(split: SplitName, format: DatasetFormat): string {
  return `${split}.${format}`;
}

async function write(stream: WriteStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Writes documents to `<dir>/train.<format>` and `<dir>/val.<format>` as they stream by; returns the paths. */
export async function writeDatasetSplits(
  documents: AsyncIterable<ProcessedDocument>,
  dir: string,
  format: DatasetFormat = 'txt',
): Promise<Record<SplitName, string>> {
  if (!DATASET_FORMATS.includes(format)) {
    throw new InvalidArgumentError(`unknown output format "${format}"; choose txt or jsonl`, {
      field: 'format',
      value: format,
    });
  }
  await mkdir(dir, { recursive: true });
  const paths = { train: join(dir, splitFileName('train', format)), val: join(dir, splitFileName('val', format)) };
  const streams = { train: createWriteStream(paths.train), val: createWriteStream(paths.val) };
  const first = { train: true, val: true };
  try {
    for await (const doc of documents) {
      const stream = streams[doc.split];
      if (format === 'jsonl') await write(stream, `${JSON.stringify({ text: doc.text })}\n`);
      else {
        await write(stream, first[doc.split] ? `${doc.text}\n` : `\n${doc.text}\n`);
        first[doc.split] = false;
      }
    }
  } finally {
    await Promise.all([close(streams.train), close(streams.val)]);
  }
  return paths;
}

export async function writeDataStats(stats: DataStats & Record<string, unknown>, path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(stats, null, 2)}\n`);
}

/**
 * Streams the documents of a split file written by `writeDatasetSplits` (format from the extension: `.jsonl`, else
 * blank-line separated text). For trainers: feed these to the tokenizer and the batcher.
 */
export async function* readDatasetDocuments(path: string, signal?: AbortSignal): AsyncGenerator<string> {
  if (path.endsWith('.jsonl')) {
    let lineNo = 0;
    for await (const line of readTextLines(path, { signal })) {
      lineNo++;
      if (line === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (error) {
        throw new ModelFormatError(`line ${lineNo} is not JSON`, { file: path, field: `line ${lineNo}`, cause: error });
      }
      const text = (record as { text?: unknown } | null)?.text;
      if (typeof text !== 'string')
        throw new ModelFormatError(`line ${lineNo} has no string "text"`, { file: path, field: 'text' });
      yield text;
    }
    return;
  }
  let buffer: string[] = [];
  for await (const line of readTextLines(path, { signal })) {
    if (line === '') {
      if (buffer.length > 0) yield buffer.join('\n');
      buffer = [];
    } else buffer.push(line);
  }
  if (buffer.length > 0) yield buffer.join('\n');
}
