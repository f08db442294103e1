import { generateText } from '@slmkit/core';
import { createRandomModel } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLlamaOnnxModel } from './export/llama-graph.js';
import { createOnnxBackend } from './index.js';
import { logitRows, maxDiff } from './logit-rows.test-helpers.js';
import type { OnnxLoadedModel } from './onnx-model.js';

// Head size 32 (a multiple of 16), so the fused graph uses com.microsoft.GroupQueryAttention; 4 query heads per KV head.
const data = createRandomModel({
  seed: 5,
  vocabSize: 320,
  dim: 128,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 1,
  ffnDim: 160,
  contextLength: 96,
});
const standard = createOnnxBackend({ fused: false });
const fused = createOnnxBackend({ fused: true, kvLayout: 'optimum' });
const slots = createOnnxBackend({ fused: true, kvLayout: 'slots' });
afterAll(async () => {
  await standard.dispose();
  await fused.dispose();
  await slots.dispose();
});

describe('fused-operator graph (GroupQueryAttention, RotaryEmbedding, SimplifiedLayerNormalization)', () => {
  it('uses fewer nodes than the standard-op graph', () => {
    const a = buildLlamaOnnxModel(data, { fused: false }).graph.node.length;
    const b = buildLlamaOnnxModel(data, { fused: true });
    expect(b.graph.node.some((n) => n.opType === 'GroupQueryAttention')).toBe(true);
    expect(b.graph.node.length).toBeLessThan(a / 2);
  });

  it('the portable graph uses only standard ONNX operators (default domain, opset 17)', () => {
    const model = buildLlamaOnnxModel(data, { fused: false });
    expect(model.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.node.every((n) => (n.domain ?? '') === '')).toBe(true);
  });

  it('GQA and KV-slot graphs give the same logits as the standard graph for prefill, split prefill and decode', async () => {
    const a = (await standard.load(data)) as OnnxLoadedModel;
    expect(a.session.inputNames).toContain('past_key_values.0.key');
    for (const [layout, backend] of [
      ['optimum', fused],
      ['slots', slots],
    ] as const) {
      const b = (await backend.load(data)) as OnnxLoadedModel;
      expect(b.session.inputNames.includes('past_bias'), layout).toBe(layout === 'slots');
      const ids = a.tokenizer.encode('the quick brown fox jumps over the lazy dog');
      const plans = [[ids], [ids.slice(0, 4), ids.slice(4, 7), ...ids.slice(7).map((t) => [t])]];
      for (const plan of plans) {
        const ra = await logitRows(a, plan);
        const rb = await logitRows(b, plan);
        expect(rb.length).toBe(ids.length);
        for (let i = 0; i < ra.length; i++) expect(maxDiff(ra[i], rb[i]), layout).toBeLessThan(1e-3);
      }
      const ga = await generateText({ model: a, prompt: 'the quick', maxTokens: 80, temperature: 0, stopTokens: [] });
      const gb = await generateText({ model: b, prompt: 'the quick', maxTokens: 80, temperature: 0, stopTokens: [] });
      // 80 tokens: the KV-slot cache grows past its first 64 slots.
      expect(ga.tokens.length).toBeGreaterThan(64);
      expect(gb.tokens, layout).toEqual(ga.tokens);
      await b.dispose();
    }
  });
});
