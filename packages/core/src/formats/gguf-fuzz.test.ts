import { describe, expect, it } from 'vitest';
import { SlmError } from '../errors/index.js';
import { tensorToFloat32 } from '../model/tensor.js';
import { createRandomModel } from '../testing/random-model.js';
import { tokenizerFromGguf } from '../tokenizer/gguf-vocab.js';
import { ggufToModelData, modelDataToGguf } from './gguf-llama.js';
import { readGguf } from './gguf-reader.js';
import { corruptedVariants } from './gguf-test-fixtures.js';
import { validateGgufForLlama } from './gguf-validate.js';
import { writeGguf } from './gguf-writer.js';

/** Runs `fn`; returns 'ok', 'typed' (an SlmError) or the untyped error's description. */
export async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    return SlmError.isInstance(error) ? 'typed' : `UNTYPED ${String(error)}`;
  }
}

describe('GGUF fuzz: 2,000 corrupted variants', () => {
  it('every variant reads, validates and maps with a typed error or succeeds', async () => {
    const model = createRandomModel({
      vocabSize: 300,
      dim: 32,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 1,
      ffnDim: 32,
      contextLength: 64,
    });
    const original = writeGguf(modelDataToGguf(model, { quantize: 'q8_0' }));
    const dataOffset = readGguf(original).dataOffset;
    const counts = { read: 0, readFailed: 0, valid: 0, invalid: 0 };
    const untyped: string[] = [];
    for (const { label, bytes } of corruptedVariants(original, { count: 2000, seed: 1234, hotEnd: dataOffset })) {
      let file: ReturnType<typeof readGguf> | undefined;
      const read = await outcome(() => {
        file = readGguf(bytes, 'fuzz.gguf');
        for (const t of file.tensors) tensorToFloat32(file.readTensor(t.name));
      });
      if (read !== 'ok') {
        counts.readFailed++;
        if (read !== 'typed') untyped.push(`${label}: read: ${read}`);
        continue;
      }
      counts.read++;
      // the tokenizer loader on its own, without the validator in front of it
      const tokenizer = await outcome(
        () => file && tokenizerFromGguf(file.metadata, 'fuzz.gguf').encode('Hello world'),
      );
      if (tokenizer !== 'ok' && tokenizer !== 'typed') untyped.push(`${label}: tokenizerFromGguf: ${tokenizer}`);
      const loaded = await outcome(async () => {
        if (!file) return;
        validateGgufForLlama(file);
        const data = await ggufToModelData(file);
        data.tokenizer.decode(data.tokenizer.encode('Hello world'));
      });
      if (loaded === 'ok') counts.valid++;
      else if (loaded === 'typed') counts.invalid++;
      else untyped.push(`${label}: load: ${loaded}`);
    }
    expect(untyped.slice(0, 10)).toEqual([]);
    // the corruptions must exercise both paths
    expect(counts.readFailed).toBeGreaterThan(200);
    expect(counts.valid).toBeGreaterThan(50);
    expect(counts.read + counts.readFailed).toBe(2000);
  }, 60_000);
});
