import type { ModelSpec, RopeLayout } from './model-spec.js';
import { headDim } from './model-spec.js';
import { encodeTensor, type Tensor, tensorToFloat32 } from './tensor.js';
import { LlamaTensorNames, type Weights } from './weights.js';

/**
 * Reorders the rows of a q or k projection ([heads * headDim, in]) between RoPE pair layouts.
 * Adjacent row h*hd + 2i + p holds half-layout row h*hd + p*hd/2 + i (p in {0, 1}).
 */
export function permuteRopeRows(
  values: Float32Array,
  heads: number,
  headSize: number,
  columns: number,
  from: RopeLayout,
  to: RopeLayout,
): Float32Array {
  if (from === to) return values;
  const out = new Float32Array(values.length);
  const halfSize = headSize / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < halfSize; i++) {
      for (let p = 0; p < 2; p++) {
        const adjacentRow = h * headSize + 2 * i + p;
        const halfRow = h * headSize + p * halfSize + i;
        const [src, dst] = from === 'half' ? [halfRow, adjacentRow] : [adjacentRow, halfRow];
        out.set(values.subarray(src * columns, (src + 1) * columns), dst * columns);
      }
    }
  }
  return out;
}

function permuteTensor(tensor: Tensor, heads: number, spec: ModelSpec, to: RopeLayout): Tensor {
  const [, columns] = tensor.shape;
  const values = permuteRopeRows(tensorToFloat32(tensor), heads, headDim(spec), columns, spec.ropeLayout, to);
  return encodeTensor(tensor.name, tensor.shape, values, tensor.dtype === 'q4_K' ? 'f32' : tensor.dtype);
}

/** Rewrites a model's q/k weights for another RoPE layout; returns the new spec and weights. */
export function convertRopeLayout(
  spec: ModelSpec,
  weights: Weights,
  to: RopeLayout,
): { spec: ModelSpec; weights: Weights } {
  if (spec.ropeLayout === to) return { spec, weights };
  const q = new Set<string>();
  const k = new Set<string>();
  for (let l = 0; l < spec.nLayers; l++) {
    q.add(LlamaTensorNames.attnQ(l));
    k.add(LlamaTensorNames.attnK(l));
  }
  const converted = weights.map((t) => {
    if (q.has(t.name)) return permuteTensor(t, spec.nHeads, spec, to);
    if (k.has(t.name)) return permuteTensor(t, spec.nKvHeads, spec, to);
    return t;
  });
  return { spec: { ...spec, ropeLayout: to }, weights: converted };
}
