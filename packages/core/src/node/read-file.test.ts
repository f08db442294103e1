import { constants } from 'node:buffer';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileInChunks, readModelFile } from './read-file.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('readFileInChunks (files over fs.readFile 2 GiB limit)', () => {
  it('reads a file chunk by chunk into one array, byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slm-read-'));
    dirs.push(dir);
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) & 255);
    const file = join(dir, 'm.bin');
    await writeFile(file, bytes);
    expect(await readFileInChunks(file, bytes.length, 'model file', 4099)).toEqual(bytes);
    expect(await readModelFile(file)).toEqual(bytes);
    // A file shorter than its stated size is a format error naming the offset.
    await expect(readFileInChunks(file, bytes.length + 10, 'model file', 4099)).rejects.toThrow(/ended at byte 100003/);
    await expect(readFileInChunks(file, constants.MAX_LENGTH + 1)).rejects.toThrow(/more than the \d+ bytes/);
  });
});
