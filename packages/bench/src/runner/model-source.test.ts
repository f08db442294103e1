import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelData } from '@slmkit/core/node';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../suite/suite-types.js';
import { generatedModelFile, generatedModelPath, randomModelData } from './model-source.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('generated models', () => {
  it('are written once as GGUF and reused, keyed by shape, seed and dtype', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slm-bench-gen-'));
    dirs.push(dir);
    const entry: ModelEntry = { id: 'tiny', random: { preset: 'tiny', seed: 5 } };
    const file = await generatedModelFile(entry, dir, 1);
    const first = await stat(file);
    expect(await generatedModelFile(entry, dir, 1)).toBe(file);
    expect((await stat(file)).mtimeMs).toBe(first.mtimeMs);
    // The file holds the same weights as generating in memory.
    const fromFile = await loadModelData(file);
    const inMemory = randomModelData(entry, 1);
    expect(fromFile.spec.dim).toBe(inMemory.spec.dim);
    const name = [...inMemory.weights][0].name;
    const a = [...fromFile.weights].find((t) => t.name === name);
    expect(a?.data).toEqual([...inMemory.weights][0].data);
    // Another dtype, seed or shape is another file.
    expect(generatedModelPath({ ...entry, dtype: 'q8_0' }, dir, 1)).not.toBe(file);
    expect(generatedModelPath({ ...entry, random: { preset: 'tiny', seed: 6 } }, dir, 1)).not.toBe(file);
    expect(generatedModelPath({ ...entry, random: { preset: 'tiny', seed: 5, nLayers: 1 } }, dir, 1)).not.toBe(file);
  });
});
