import { headDim, type ModelSpec, LlamaTensorNames as N } from '@slmkit/core';
import type { GraphBuilder } from './graph-builder.js';

/** y = x W^T for a canonical [out, in] weight (fp32 MatMul or int8 MatMulNBits). */
export type Linear = (x: string, name: string, scale?: number) => string;
/** RMSNorm with the gain `name`. */
export type Norm = (x: string, name: string) => string;

/** Additive attention bias of a masked position. */
export const MASKED = -1e9;

/**
 * Causal visibility [group * S, T] (bool): query row j * S + s (position `queryPositions[s]`, rows tiled once per
 * head of a KV group) may see key position `keyPositions[t]` when t's position <= s's.
 */
export function causalVisibility(g: GraphBuilder, keyPositions: string, queryPositions: string, group: number): string {
  const rows = group > 1 ? g.op('Tile', [queryPositions, g.int64s([group])]) : queryPositions;
  return g.op('LessOrEqual', [
    g.op('Unsqueeze', [keyPositions, g.int64s([0])]),
    g.op('Unsqueeze', [rows, g.int64s([1])]),
  ]);
}

/** RoPE caches [contextLength, hd/2], computed in float32 steps as llama2.c does (pos * freq, then cos/sin). */
export function ropeCacheInitializers(g: GraphBuilder, spec: ModelSpec): { cos: string; sin: string } {
  const hd = headDim(spec);
  const positions = spec.contextLength;
  const cosCache = new Float32Array(positions * (hd / 2));
  const sinCache = new Float32Array(positions * (hd / 2));
  for (let i = 0; i < hd / 2; i++) {
    const freq = Math.fround(1 / Math.fround(spec.ropeTheta ** ((2 * i) / hd)));
    for (let p = 0; p < positions; p++) {
      const angle = Math.fround(p * freq);
      cosCache[p * (hd / 2) + i] = Math.cos(angle);
      sinCache[p * (hd / 2) + i] = Math.sin(angle);
    }
  }
  return {
    cos: g.float('rope.cos_cache', [positions, hd / 2], cosCache),
    sin: g.float('rope.sin_cache', [positions, hd / 2], sinCache),
  };
}

/** SwiGLU feed-forward block with its residual: x + down(silu(gate(h)) * up(h)). */
export function feedForward(g: GraphBuilder, x: string, layer: number, linear: Linear, rmsNorm: Norm): string {
  const h = rmsNorm(x, N.ffnNorm(layer));
  const gate = linear(h, N.ffnGate(layer));
  const up = linear(h, N.ffnUp(layer));
  const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
  return g.op('Add', [x, linear(act, N.ffnDown(layer))]);
}
