import type { ModelSpec } from '@slmkit/core';

/** Architecture of a preset; the vocabulary comes from the tokenizer. */
export type TrainPreset = Omit<ModelSpec, 'architecture' | 'name' | 'vocabSize' | 'provenance'>;

const base = { ropeTheta: 10_000, ropeLayout: 'half', normEps: 1e-5, tiedEmbeddings: true } as const;

/**
 * Model sizes from ~0.3M to ~30M parameters (counted with a 4,096-token vocabulary; tied embeddings).
 * Names give the approximate size.
 */
export const TRAIN_PRESETS = {
  '0.3m': { ...base, dim: 48, nLayers: 4, nHeads: 4, nKvHeads: 2, ffnDim: 128, contextLength: 256 },
  '1m': { ...base, dim: 128, nLayers: 4, nHeads: 4, nKvHeads: 2, ffnDim: 352, contextLength: 256 },
  '3m': { ...base, dim: 192, nLayers: 6, nHeads: 6, nKvHeads: 3, ffnDim: 512, contextLength: 256 },
  '10m': { ...base, dim: 320, nLayers: 8, nHeads: 8, nKvHeads: 4, ffnDim: 864, contextLength: 512 },
  '30m': { ...base, dim: 512, nLayers: 10, nHeads: 8, nKvHeads: 4, ffnDim: 1376, contextLength: 512 },
} as const satisfies Record<string, TrainPreset>;

export type TrainPresetName = keyof typeof TRAIN_PRESETS;

export function specFromPreset(
  preset: TrainPresetName | TrainPreset,
  vocabSize: number,
  name = 'slmkit-model',
): ModelSpec {
  const p = typeof preset === 'string' ? TRAIN_PRESETS[preset] : preset;
  return { architecture: 'llama', name, vocabSize, ...p };
}
