import { InvalidArgumentError } from '@slmkit/core';
import { RANDOM_MODEL_PRESETS, type RandomModelOptions } from '@slmkit/core/testing';

/**
 * Random-weight Llama shapes for the size sweep, from ~0.3M to ~1B parameters (approximate counts; the exact
 * count is computed from the spec and reported). Core's presets (`tiny`, `24m`, `134m`) are included.
 */
export const BENCH_MODEL_PRESETS: Record<string, RandomModelOptions> = {
  ...RANDOM_MODEL_PRESETS,
  /** ~0.3M: the shape of stories260K. */
  '300k': { vocabSize: 512, dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, ffnDim: 172, contextLength: 512 },
  /** ~1.5M */
  '1m': { vocabSize: 2048, dim: 128, nLayers: 4, nHeads: 4, nKvHeads: 4, ffnDim: 384, contextLength: 512 },
  /** ~7M */
  '7m': { vocabSize: 8000, dim: 256, nLayers: 6, nHeads: 8, nKvHeads: 8, ffnDim: 688, contextLength: 512 },
  /** ~300M */
  '300m': { vocabSize: 32_000, dim: 1024, nLayers: 20, nHeads: 16, nKvHeads: 16, ffnDim: 2816, contextLength: 1024 },
  /** ~1.1B, TinyLlama's shape (grouped-query attention, 4 KV heads): generated only when a suite asks. */
  '1b': { vocabSize: 32_000, dim: 2048, nLayers: 22, nHeads: 32, nKvHeads: 4, ffnDim: 5632, contextLength: 2048 },
};

export function presetOptions(name: string): RandomModelOptions {
  const preset = BENCH_MODEL_PRESETS[name];
  if (!preset) {
    throw new InvalidArgumentError(
      `unknown random-model preset "${name}"; known: ${Object.keys(BENCH_MODEL_PRESETS).join(', ')}`,
      {
        field: 'random.preset',
        value: name,
      },
    );
  }
  return preset;
}
