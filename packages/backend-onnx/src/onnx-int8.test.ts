import { type LoadedModel, type ModelData, parameterCount } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { createRandomModel, goldenContinuations, RANDOM_MODEL_PRESETS } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';
import { buildLlamaOnnxModel } from './export/llama-graph.js';
import { dequantizeBlockwise8, quantizeBlockwise8 } from './export/weight-encoding.js';
import { createOnnxBackend } from './index.js';
import { encodeOnnxModel } from './proto/onnx-codec.js';

/** Perplexity of `ids` (first id is the context start) from one full-logits forward pass. */
async function perplexity(model: LoadedModel, ids: number[]): Promise<number> {
  const sequence = await model.createSequence();
  try {
    const logits = await sequence.forward(ids, { logits: 'all' });
    let nll = 0;
    for (let i = 0; i + 1 < ids.length; i++) {
      const row = logits.row(i);
      let max = Number.NEGATIVE_INFINITY;
      for (const v of row) max = Math.max(max, v);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      nll += Math.log(sum) + max - row[ids[i + 1]];
    }
    return Math.exp(nll / (ids.length - 1));
  } finally {
    await sequence.dispose();
  }
}

async function perplexityPair(data: ModelData, text: string): Promise<{ fp32: number; int8: number }> {
  const result: Record<string, number> = {};
  for (const dtype of ['fp32', 'int8'] as const) {
    const backend = createOnnxBackend({ dtype });
    const model = await backend.load(data);
    expect(model.info.weightType).toBe(dtype === 'int8' ? 'int8' : 'f32');
    result[dtype] = await perplexity(model, model.tokenizer.encode(text));
    await backend.dispose();
  }
  return { fp32: result.fp32, int8: result.int8 };
}

describe('int8 weights (MatMulNBits, 8 bits, blocks of 32)', () => {
  it('blockwise quantisation round-trips within half a step, padding ragged rows', () => {
    const values = Float32Array.from({ length: 3 * 40 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const q = quantizeBlockwise8(values, 3, 40, 32);
    expect(q.blocks).toBe(2);
    const back = dequantizeBlockwise8(q, 3, 40);
    for (let i = 0; i < values.length; i++) {
      const block = Math.floor((i % 40) / 32);
      const scale = q.scales[Math.floor(i / 40) * 2 + block];
      expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
  });

  it('the int8 file of a 24M-parameter model is at most 0.35x the fp32 file', async () => {
    // The preset has 24M parameters with an untied classifier (15M tied).
    const model = createRandomModel({ ...RANDOM_MODEL_PRESETS['24m'], seed: 3, tiedEmbeddings: false });
    expect(parameterCount(model.spec)).toBeGreaterThan(23e6);
    const fp32 = (await encodeOnnxModel(buildLlamaOnnxModel(model, { weights: 'fp32' }))).byteLength;
    const int8 = (await encodeOnnxModel(buildLlamaOnnxModel(model, { weights: 'int8' }))).byteLength;
    expect(fp32).toBeGreaterThan(4 * 20e6);
    expect(int8 / fp32).toBeLessThanOrEqual(0.35);
  });

  const stories = stories260KPaths();
  it.skipIf(!stories)(
    `stories260K: int8 perplexity within 2% of fp32 ${stories ? '' : SHARED_MISSING_REASON}`,
    async () => {
      if (!stories) return;
      const data = await loadModelData({ path: stories.model, tokenizerPath: stories.tokenizer });
      const golden = goldenContinuations.stories260K;
      const { fp32, int8 } = await perplexityPair(data, `${golden.prompt}${golden.text}`);
      expect(fp32).toBeGreaterThan(1);
      expect(fp32).toBeLessThan(10); // a trained model predicts its own greedy text well
      expect(Math.abs(int8 - fp32) / fp32).toBeLessThanOrEqual(0.02);
    },
  );

  it('random fixture: int8 perplexity within 2% of fp32', async () => {
    const data = createRandomModel({ seed: 11 });
    const { fp32, int8 } = await perplexityPair(data, 'the quick brown fox jumps over the lazy dog and runs far away');
    expect(Math.abs(int8 - fp32) / fp32).toBeLessThanOrEqual(0.02);
  });
});
