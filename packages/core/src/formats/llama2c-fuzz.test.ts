import { describe, expect, it } from 'vitest';
import { SlmError } from '../errors/index.js';
import { validateModelSpec } from '../model/model-spec.js';
import { validateLlamaWeights } from '../model/weights.js';
import { createRandomModel } from '../testing/random-model.js';
import { corruptedVariants } from './gguf-test-fixtures.js';
import { readAnyLlama2cCheckpoint, writeLlama2cCheckpoint } from './llama2c-versioned.js';

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return SlmError.isInstance(error) ? 'typed' : `UNTYPED ${String(error)}`;
  }
}

describe('llama2.c fuzz: 2,000 corrupted variants of each version', () => {
  const model = createRandomModel({
    vocabSize: 300,
    dim: 32,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 1,
    ffnDim: 32,
    contextLength: 16,
  });
  for (const version of [0, 1, 2] as const) {
    it(`version ${version}: every variant loads or fails with a typed error`, () => {
      const original = writeLlama2cCheckpoint(model, { version });
      const counts: Record<string, number> = { ok: 0, typed: 0 };
      const untyped: string[] = [];
      const variants = 2000;
      for (const { label, bytes } of corruptedVariants(original, {
        count: variants,
        seed: 99 + version,
        hotEnd: version === 0 ? 28 : 64,
      })) {
        const result = outcome(() => {
          const { spec, weights } = readAnyLlama2cCheckpoint(bytes, 'fuzz.bin');
          validateModelSpec(spec);
          validateLlamaWeights(spec, weights);
          for (const t of weights) weights.float32(t.name);
        });
        if (result === 'ok' || result === 'typed') counts[result]++;
        else untyped.push(`${label}: ${result}`);
      }
      expect(untyped.slice(0, 10)).toEqual([]);
      expect(counts.ok).toBeGreaterThan(variants / 20);
      expect(counts.typed).toBeGreaterThan(variants / 10);
    }, 30_000);
  }
});
