import { headDim, type ModelSpec, LlamaTensorNames as N } from '@slmkit/core';
import { OnnxDataType } from '../proto/onnx-codec.js';
import type { GraphBuilder } from './graph-builder.js';
import { causalVisibility, feedForward, type Linear, MASKED, type Norm, ropeCacheInitializers } from './layer-parts.js';

/**
 * I/O names of slmkit's "KV slots" decoder, the layout onnxruntime-node runs fastest:
 * - in: `input_ids` / `position_ids` [1, S]; `past_bias` [1, 1, 1, C] (0 where a cache slot holds a past token,
 *   -1e9 elsewhere); per layer `cache.{i}.key_t` [1, KV, headDim, C] (keys transposed) and `cache.{i}.value`
 *   [1, KV, C, headDim] — fixed-capacity buffers that the caller owns and fills;
 * - in: `logits_from` (int64 [1]): `logits` covers positions from there on (0: all; S - 1: the last one);
 * - out: `logits` [1, S - logits_from, vocab], `last_hidden_state`, and per layer only the new tokens' `new.{i}.key_t` [1, KV, headDim, S] and
 *   `new.{i}.value` [1, KV, S, headDim], which the caller writes into its buffers.
 *
 * Attention is split into the cached part (scores against the whole capacity, masked by `past_bias`) and the new
 * tokens' part (causal), joined by one softmax. Nothing proportional to the cache is concatenated or returned, so a
 * decode step neither copies the cache inside the graph nor receives a copy of it (onnxruntime-node returns every
 * output in a fresh buffer).
 */
export const SLOT_NAMES = {
  pastBias: 'past_bias',
  cacheKeyT: (layer: number) => `cache.${layer}.key_t`,
  cacheValue: (layer: number) => `cache.${layer}.value`,
  newKeyT: (layer: number) => `new.${layer}.key_t`,
  newValue: (layer: number) => `new.${layer}.value`,
  /** First position whose logits the graph computes (int64 [1]): 0 for all, S - 1 for the last one only. */
  logitsFrom: 'logits_from',
} as const;

/** Declares the KV-slot inputs and per-layer outputs (after `input_ids`/`position_ids` and `logits`). */
export function declareSlotIo(g: GraphBuilder, spec: ModelSpec): void {
  const KV = spec.nKvHeads;
  const hd = headDim(spec);
  g.input(SLOT_NAMES.logitsFrom, OnnxDataType.INT64, [1]);
  g.input(SLOT_NAMES.pastBias, OnnxDataType.FLOAT, [1, 1, 1, 'capacity']);
  for (let l = 0; l < spec.nLayers; l++) {
    g.input(SLOT_NAMES.cacheKeyT(l), OnnxDataType.FLOAT, [1, KV, hd, 'capacity']);
    g.input(SLOT_NAMES.cacheValue(l), OnnxDataType.FLOAT, [1, KV, 'capacity', hd]);
  }
  for (let l = 0; l < spec.nLayers; l++) {
    g.output(SLOT_NAMES.newKeyT(l), OnnxDataType.FLOAT, [1, KV, hd, 'sequence_length']);
    g.output(SLOT_NAMES.newValue(l), OnnxDataType.FLOAT, [1, KV, 'sequence_length', hd]);
  }
}

/** q (already scaled by 1/sqrt(headDim)), k and v of layer `layer` from its normed input `h`, each [B, S, heads * hd]. */
export type QkvProjection = (h: string, layer: number) => readonly [string, string, string];

/** The decoder layers over KV slots (see SLOT_NAMES), with ORT's RotaryEmbedding; RoPE in the `half` layout. */
export function slotLayers(
  g: GraphBuilder,
  spec: ModelSpec,
  input: string,
  /** `input_ids` or `inputs_embeds`: its dimension 1 is the number of new tokens. */
  tokens: string,
  positionIds: string,
  project: QkvProjection,
  linear: Linear,
  rmsNorm: Norm,
): string {
  let x = input;
  const H = spec.nHeads;
  const KV = spec.nKvHeads;
  const hd = headDim(spec);
  const group = H / KV;
  const rope = ropeCacheInitializers(g, spec);
  const rotate = (t: string) =>
    g.op('RotaryEmbedding', [t, positionIds, rope.cos, rope.sin], { interleaved: 0 }, { domain: 'com.microsoft' });

  // Causal bias of the new tokens [1, 1, group * S, S]: query row j * S + s may see new token t <= s.
  const seq = g.op('Shape', [tokens], { start: 1, end: 2 });
  const seqScalar = g.op('Squeeze', [seq, g.int64s([0])]);
  const newPositions = g.op('Range', [g.int64s([0], []), seqScalar, g.int64s([1], [])]);
  const allowed = causalVisibility(g, newPositions, newPositions, group);
  const newBias = g.op('Where', [allowed, g.floats([0], []), g.floats([MASKED], [])]);
  // Softmax over [capacity + S] is split back at the capacity.
  const splitSizes = g.op('Concat', [g.op('Shape', [SLOT_NAMES.pastBias], { start: 3, end: 4 }), seq], { axis: 0 });

  for (let l = 0; l < spec.nLayers; l++) {
    const h = rmsNorm(x, N.attnNorm(l));
    const [qRaw, kRaw, vRaw] = project(h, l);
    // Queries [1, KV, group * S, hd]: head kv * group + j at position s -> row j * S + s of KV head kv.
    const q = rotate(qRaw);
    const queries =
      group > 1
        ? g.op('Reshape', [
            g.op('Transpose', [g.op('Reshape', [q, g.int64s([0, 0, KV, group, hd])])], { perm: [0, 2, 3, 1, 4] }),
            g.int64s([0, KV, -1, hd]),
          ])
        : g.op('Transpose', [g.op('Reshape', [q, g.int64s([0, 0, KV, hd])])], { perm: [0, 2, 1, 3] });
    const newKeyT = g.op(
      'Transpose',
      [g.op('Reshape', [rotate(kRaw), g.int64s([0, 0, KV, hd])])],
      {
        perm: [0, 2, 3, 1],
      },
      { out: SLOT_NAMES.newKeyT(l) },
    );
    const newValue = g.op(
      'Transpose',
      [g.op('Reshape', [vRaw, g.int64s([0, 0, KV, hd])])],
      {
        perm: [0, 2, 1, 3],
      },
      { out: SLOT_NAMES.newValue(l) },
    );
    const pastScores = g.op('Add', [g.op('MatMul', [queries, SLOT_NAMES.cacheKeyT(l)]), SLOT_NAMES.pastBias]);
    const newScores = g.op('Add', [g.op('MatMul', [queries, newKeyT]), newBias]);
    const probs = g.op('Softmax', [g.op('Concat', [pastScores, newScores], { axis: -1 })], { axis: -1 });
    const [pastProbs, newProbs] = g.opMulti('Split', [probs, splitSizes], [g.fresh('p_past'), g.fresh('p_new')], {
      axis: -1,
    });
    const context = g.op('Add', [
      g.op('MatMul', [pastProbs, SLOT_NAMES.cacheValue(l)]),
      g.op('MatMul', [newProbs, newValue]),
    ]);
    // Back to [1, S, H * hd] in head order kv * group + j.
    const merged =
      group > 1
        ? g.op('Reshape', [
            g.op('Transpose', [g.op('Reshape', [context, g.int64s([0, KV, group, -1, hd])])], {
              perm: [0, 3, 1, 2, 4],
            }),
            g.int64s([0, 0, H * hd]),
          ])
        : g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.int64s([0, 0, H * hd])]);
    x = g.op('Add', [x, linear(merged, N.attnOutput(l))]);
    x = feedForward(g, x, l, linear, rmsNorm);
  }
  return x;
}
