import { createRandomModel } from '@slmkit/core/testing';
import { describe, expect, it } from 'vitest';
import type { TensorProto } from '../proto/onnx-codec.js';
import { applyConvLinears, CONV_LINEAR_MIN_ELEMENTS, planConvLinears, transposedRows } from './conv-linears.js';
import { buildLlamaOnnxModel } from './llama-graph.js';

// dim 256: q/k/v/o are 256 x 256 = 65,536 elements (the threshold); ffn 512; vocabulary 404 (not a multiple of 16).
const shape = { seed: 3, vocabSize: 404, dim: 256, nLayers: 2, nHeads: 8, nKvHeads: 8, ffnDim: 512, contextLength: 64 };
const slotGraph = (options: { tied: boolean; vocabSize?: number }) =>
  buildLlamaOnnxModel(
    createRandomModel({ ...shape, tiedEmbeddings: options.tied, vocabSize: options.vocabSize ?? shape.vocabSize }),
    { fused: true, kvLayout: 'slots' },
  );

describe('linear layers as 1x1 convolutions', () => {
  it('plans every large fp32 linear, in KV-slot and Optimum-layout graphs alike', () => {
    expect(256 * 256).toBe(CONV_LINEAR_MIN_ELEMENTS);
    const plan = planConvLinears(slotGraph({ tied: false }));
    // Per layer q, k, v, o, gate, up, down; the 404-row vocabulary projection is not a multiple of 16.
    expect(plan.length).toBe(2 * 7);
    expect(plan.every((p) => p.layout === 'kn' && p.k % 16 === 0 && p.n % 16 === 0)).toBe(true);
    expect(plan.find((p) => p.weight.name === 'blk.0.ffn_down.weight.T')).toMatchObject({ k: 512, n: 256 });
    const optimum = buildLlamaOnnxModel(createRandomModel({ ...shape, tiedEmbeddings: false }), { fused: true });
    expect(planConvLinears(optimum).map((p) => p.weight.name)).toEqual(plan.map((p) => p.weight.name));
    const int8 = buildLlamaOnnxModel(createRandomModel({ ...shape, tiedEmbeddings: false }), {
      fused: true,
      kvLayout: 'slots',
      weights: 'int8',
    });
    expect(planConvLinears(int8)).toEqual([]);
    // A merged decoder (an If node with subgraphs) is left alone.
    const merged = {
      ...optimum,
      graph: { ...optimum.graph, node: [...optimum.graph.node, { opType: 'If', input: ['c'], output: ['o'] }] },
    };
    expect(planConvLinears(merged)).toEqual([]);
    const small = buildLlamaOnnxModel(createRandomModel({ ...shape, dim: 128, ffnDim: 256 }), {
      fused: true,
      kvLayout: 'slots',
    });
    // 128 x 128 and 128 x 256 are under the threshold; 404 is not a multiple of 16.
    expect(planConvLinears(small)).toEqual([]);
  });

  it('takes a tied table through its Transpose (the table is already the filter layout)', () => {
    const plan = planConvLinears(slotGraph({ tied: true, vocabSize: 512 }));
    const head = plan.find((p) => p.layout === 'nk');
    expect(head).toMatchObject({ k: 256, n: 512 });
    expect(head?.weight.name).toBe('token_embd.weight');
  });

  it('rewrites each planned MatMul into Transpose, Unsqueeze, Conv, Squeeze, Transpose writing the same output', () => {
    const model = slotGraph({ tied: true, vocabSize: 512 });
    const plan = planConvLinears(model);
    const filters: TensorProto[] = plan.map((p) => ({ name: p.filter, dims: [p.n, p.k, 1, 1], dataType: 1 }));
    const rewritten = applyConvLinears(model, plan, filters);
    const ops = (m: typeof model, type: string) => m.graph.node.filter((n) => n.opType === type).length;
    expect(ops(rewritten, 'Conv')).toBe(plan.length);
    expect(ops(rewritten, 'MatMul')).toBe(ops(model, 'MatMul') - plan.length);
    for (const linear of plan) {
      const conv = rewritten.graph.node.find((n) => n.opType === 'Conv' && n.input[1] === linear.filter);
      expect(conv).toBeDefined();
      const writer = rewritten.graph.node.find((n) => n.output[0] === linear.node.output[0]);
      expect(writer?.opType).toBe('Transpose');
    }
    const names = new Set(rewritten.graph.initializer.map((t) => t.name));
    // The [K, N] weights went; the tied table stays (Gather reads it); its Transpose went with the MatMul.
    expect(names.has('blk.0.attn_q.weight.T')).toBe(false);
    expect(names.has('token_embd.weight')).toBe(true);
    expect(rewritten.graph.node.some((n) => n.opType === 'Transpose' && n.input[0] === 'token_embd.weight')).toBe(
      false,
    );
    for (const f of filters) expect(names.has(f.name)).toBe(true);
    // The source graph is left as it was.
    expect(ops(model, 'Conv')).toBe(0);
  });

  it('builds transposed rows slab by slab', () => {
    const k = 5;
    const n = 7;
    const w = Float32Array.from({ length: k * n }, (_, i) => i * 0.5 - 3);
    const readRow = (from: number) => (row: number, into: Float32Array) =>
      into.set(w.subarray(row * n + from, row * n + from + into.length));
    const whole = [...transposedRows(k, 0, 3, readRow(0)), ...transposedRows(k, 3, 7, readRow(3))];
    for (let col = 0; col < n; col++) {
      for (let row = 0; row < k; row++) expect(whole[col * k + row]).toBe(w[row * n + col]);
    }
  });
});
