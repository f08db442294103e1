import { headDim, type ModelSpec } from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './tfjs-runtime.js';
import type { TfjsWeights } from './tfjs-weights.js';

/** Keys and values of one layer, [nKvHeads, cachedLength, headDim] each (absent while empty). */
export type LayerCache = {
  keys?: TF.Tensor3D;
  values?: TF.Tensor3D;
};

/** The rows of final hidden states to classify after a chunk. */
export type RowSelection = 'all' | 'last' | 'none';

/** What the selected rows become: logits, or the final hidden states after the output norm (embeddings). */
export type ChunkOutput = 'logits' | 'hidden';

export type ChunkResult = {
  /** [rows, vocab] logits or [rows, dim] hidden states, or undefined for `none`. */
  rows?: TF.Tensor2D;
  /** The new caches (the caller keeps these and disposes the old ones). */
  caches: LayerCache[];
};

/** x / rms(x); mean of squares + eps is one fused matmul with a [dim, 1] column of 1/dim and bias eps. */
function rmsNormalize(tf: Tf, x: TF.Tensor2D, w: TfjsWeights): TF.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.fused.matMul({ a: tf.square(x), b: w.meanColumn, bias: w.eps })));
}

/** x + a @ b (tfjs-wasm's fused matmul takes only a per-channel bias, so the residual stays an add). */
function residual(tf: Tf, x: TF.Tensor2D, a: TF.Tensor2D, b: TF.Tensor2D): TF.Tensor2D {
  return tf.add<TF.Tensor2D>(x, tf.matMul(a, b));
}

/** Additive causal mask [n, start + n]: row i may attend to cache positions 0..start+i. */
function causalMask(tf: Tf, n: number, start: number): TF.Tensor2D {
  const total = start + n;
  const mask = new Float32Array(n * total);
  for (let i = 0; i < n; i++) mask.fill(-1e9, i * total + start + i + 1, (i + 1) * total);
  return tf.tensor2d(mask, [n, total]);
}

/**
 * Runs `ids` (at positions start..start+n-1) through the model on top of `caches`. Must be called inside
 * `tf.tidy`; the returned tensors are kept by tidy's return.
 */
export function forwardChunk(
  tf: Tf,
  spec: ModelSpec,
  w: TfjsWeights,
  caches: readonly LayerCache[],
  ids: TF.Tensor1D,
  start: number,
  rows: RowSelection,
  output: ChunkOutput = 'logits',
): ChunkResult {
  const n = ids.shape[0];
  const hd = headDim(spec);
  const kvHeads = spec.nKvHeads;
  const group = spec.nHeads / kvHeads;
  const qDim = spec.nHeads * hd;
  const rope = tf.slice(w.ropeTable, [start, 0], [n, -1]);
  const mask = n > 1 ? causalMask(tf, n, start) : undefined;
  let x: TF.Tensor2D = tf.gather(w.embedding, ids);
  const next: LayerCache[] = [];
  for (let l = 0; l < spec.nLayers; l++) {
    const layer = w.layers[l];
    const cache = caches[l];
    const h = rmsNormalize(tf, x, w);
    const [q, k, v] = tf.split(
      tf.matMul(tf.mul(tf.matMul(h, layer.attn), rope), w.ropeSum),
      [qDim, w.splits[1], w.splits[1]],
      1,
    );
    let qh: TF.Tensor3D;
    let kh: TF.Tensor3D;
    let vh: TF.Tensor3D;
    if (n === 1) {
      qh = tf.reshape(q, [kvHeads, group, hd]);
      kh = tf.reshape(k, [kvHeads, 1, hd]);
      vh = tf.reshape(v, [kvHeads, 1, hd]);
    } else {
      qh = tf.reshape(tf.transpose(tf.reshape(q, [n, kvHeads, group, hd]), [1, 2, 0, 3]), [kvHeads, group * n, hd]);
      kh = tf.transpose(tf.reshape(k, [n, kvHeads, hd]), [1, 0, 2]);
      vh = tf.transpose(tf.reshape(v, [n, kvHeads, hd]), [1, 0, 2]);
    }
    const keys = cache.keys ? tf.concat([cache.keys, kh], 1) : kh;
    const values = cache.values ? tf.concat([cache.values, vh], 1) : vh;
    next.push({ keys, values });
    let scores = tf.matMul(qh, keys, false, true);
    if (mask)
      scores = tf.reshape(tf.add(tf.reshape(scores, [kvHeads, group, n, start + n]), mask), [
        kvHeads,
        group * n,
        start + n,
      ]);
    const attended = tf.matMul(tf.softmax(scores), values);
    const merged: TF.Tensor2D =
      n === 1
        ? tf.reshape(attended, [1, qDim])
        : tf.reshape(tf.transpose(tf.reshape(attended, [kvHeads, group, n, hd]), [2, 0, 1, 3]), [n, qDim]);
    x = residual(tf, x, merged, layer.wo);
    const h2 = rmsNormalize(tf, x, w);
    const [gate, up] = tf.split(tf.matMul(h2, layer.gateUp), 2, 1);
    x = residual(tf, x, tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), layer.down);
  }
  if (rows === 'none') return { caches: next };
  const selected: TF.Tensor2D = rows === 'last' && n > 1 ? tf.slice(x, [n - 1, 0], [1, -1]) : x;
  const normed = rmsNormalize(tf, selected, w);
  const out: TF.Tensor2D =
    output === 'hidden' ? tf.mul<TF.Tensor2D>(normed, w.outputNorm) : tf.matMul(normed, w.classifier);
  return { rows: out, caches: next };
}
