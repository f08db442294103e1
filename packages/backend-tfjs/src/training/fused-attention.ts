import type { RopeLayout } from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';
import { jsKernel } from './js-kernel.js';
import { batchedMatMul, transposeLast2 } from './matmul-ops.js';

/** Sizes of one causal self-attention call. */
export interface AttentionDims {
  batch: number;
  seqLen: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  ropeLayout: RopeLayout;
}

/** RoPE tables [seqLen * headDim] and the additive causal mask [seqLen, seqLen]. */
export interface AttentionConstants {
  cos: Float32Array;
  sin: Float32Array;
  mask: TF.Tensor2D;
}

/** Which slice of the fused qkv rows a head layout reads. */
type Part = 'q' | 'k' | 'v';

interface HeadLayout {
  nb: number;
  t: number;
  kvh: number;
  perKv: number;
  hd: number;
  width: number;
  col0: number;
  rows: number;
  transposed: boolean;
  partner: Int32Array;
  cosS: Float32Array;
  sinS: Float32Array;
}

/**
 * One part of the qkv rows [B*T, width] -> heads [B*KV, rows, hd] (or [B*KV, hd, rows] transposed), RoPE'd with
 * pre-scaled tables: out[j] = x[j] cosS[j] + x[partner[j]] sinS[j]. A module-level function with everything in
 * locals, so V8 compiles one tight loop for every call.
 */
function layoutHeads(src: Float32Array, out: Float32Array, l: HeadLayout): void {
  const { nb, t, kvh, perKv, hd, width, col0, rows, transposed, partner, cosS, sinS } = l;
  const tmp = new Float32Array(hd);
  for (let b = 0; b < nb; b++) {
    for (let p = 0; p < t; p++) {
      const rowBase = (b * t + p) * width + col0;
      const trig = p * hd;
      for (let hq = 0; hq < kvh * perKv; hq++) {
        const h = (hq / perKv) | 0;
        const row = (hq % perKv) * t + p;
        const slab = (b * kvh + h) * rows * hd;
        const xb = rowBase + hq * hd;
        for (let j = 0; j < hd; j++) tmp[j] = src[xb + j] * cosS[trig + j] + src[xb + partner[j]] * sinS[trig + j];
        if (transposed) {
          let o = slab + row;
          for (let j = 0; j < hd; j++, o += rows) out[o] = tmp[j];
        } else {
          const o = slab + row * hd;
          for (let j = 0; j < hd; j++) out[o + j] = tmp[j];
        }
      }
    }
  }
}

/**
 * The transpose of layoutHeads: heads (layout `l`) -> their columns of the qkv rows [B*T, width], through RoPE's
 * transpose (pass the backward tables: cosS as forward, sinS[j] = sign[p(j)] sin[p(j)] scale).
 */
function scatterHeads(src: Float32Array, out: Float32Array, l: HeadLayout): void {
  const { nb, t, kvh, perKv, hd, width, col0, rows, transposed, partner, cosS, sinS } = l;
  const tmp = new Float32Array(hd);
  for (let b = 0; b < nb; b++) {
    for (let p = 0; p < t; p++) {
      const rowBase = (b * t + p) * width + col0;
      const trig = p * hd;
      for (let hq = 0; hq < kvh * perKv; hq++) {
        const h = (hq / perKv) | 0;
        const row = (hq % perKv) * t + p;
        const slab = (b * kvh + h) * rows * hd;
        const xb = rowBase + hq * hd;
        if (transposed) {
          let o = slab + row;
          for (let j = 0; j < hd; j++, o += rows) tmp[j] = src[o];
        } else {
          const o = slab + row * hd;
          for (let j = 0; j < hd; j++) tmp[j] = src[o + j];
        }
        for (let j = 0; j < hd; j++) out[xb + j] = tmp[j] * cosS[trig + j] + tmp[partner[j]] * sinS[trig + j];
      }
    }
  }
}

/**
 * Causal grouped-query self-attention with RoPE as one differentiable op: `qkv` [B*T, qDim + 2 kvDim] (the fused
 * projection's output, heads in order) -> the merged heads [B*T, qDim], before the output projection.
 *
 * Splitting, RoPE, the 1/sqrt(headDim) scale and every head-layout change are single JS passes; the four products
 * (and the two backward products per forward one) are per-(batch, kv head) untransposed 2-D matmuls, which tfjs-wasm
 * runs through XNNPACK; softmax is tfjs's kernel. The gradient is written out by hand from the same pieces.
 */
export function causalAttention(tf: Tf, qkv: TF.Tensor2D, d: AttentionDims, c: AttentionConstants): TF.Tensor2D {
  const { batch: nb, seqLen: t, nHeads, nKvHeads: kvh, headDim: hd } = d;
  const group = nHeads / kvh;
  const qDim = nHeads * hd;
  const width = qDim + 2 * kvh * hd;
  const n = nb * kvh;
  const gt = group * t;
  const scale = 1 / Math.sqrt(hd);
  if (qkv.shape[0] !== nb * t || qkv.shape[1] !== width)
    throw new Error(`causalAttention: qkv is [${qkv.shape}], expected [${nb * t}, ${width}]`);
  // RoPE's pair swap: out[j] = x[j] cos[j] + sign[j] x[partner[j]] sin[j]
  const half = hd / 2;
  const partner = new Int32Array(hd);
  const sign = new Float32Array(hd);
  for (let j = 0; j < hd; j++) {
    if (d.ropeLayout === 'adjacent') {
      partner[j] = j ^ 1;
      sign[j] = j % 2 === 0 ? -1 : 1;
    } else {
      partner[j] = j < half ? j + half : j - half;
      sign[j] = j < half ? -1 : 1;
    }
  }
  const { cos, sin } = c;

  /**
   * Heads of `part` (RoPE'd and, for q, scaled) as [B*KV, rows, hd], rows = group*T for q (query head h*G+g at
   * rows g*T..), T for k/v; or transposed to [B*KV, hd, rows].
   */
  const layoutOf = (part: Part, transposed: boolean, backward: boolean): HeadLayout => {
    const perKv = part === 'q' ? group : 1;
    const roped = part !== 'v';
    const s = part === 'q' ? scale : 1;
    // forward: out[j] = x[j] cos[j] s + x[p(j)] sign[j] sin[j] s; backward: the transpose of that map
    const cosS = new Float32Array(t * hd);
    const sinS = new Float32Array(t * hd);
    for (let i = 0; i < t * hd; i++) {
      const j = i % hd;
      const k = backward ? i - j + partner[j] : i;
      cosS[i] = roped ? cos[i] * s : 1;
      sinS[i] = roped ? sign[k % hd] * sin[k] * s : 0;
    }
    const col0 = part === 'q' ? 0 : part === 'k' ? qDim : qDim + kvh * hd;
    return { nb, t, kvh, perKv, hd, width, col0, rows: perKv * t, transposed, partner, cosS, sinS };
  };
  /** Heads of `part` as [B*KV, rows, hd] (rows = G*T for q, query head h*G+g at rows g*T..; T for k/v), or transposed. */
  const heads = (x: TF.Tensor, part: Part, transposed: boolean): TF.Tensor3D => {
    const l = layoutOf(part, transposed, false);
    const shape = transposed ? [n, hd, l.rows] : [n, l.rows, hd];
    return jsKernel(tf, [x], shape, ([src], out) => layoutHeads(src, out, l)) as TF.Tensor3D;
  };
  const qBack = layoutOf('q', false, true);
  const kBack = layoutOf('k', true, true);
  const vBack = layoutOf('v', false, true);

  /** [B*KV, G*T, hd] <-> [B*T, qDim]: `toMerged` picks the direction. */
  const mergeHeads = (x: TF.Tensor, toMerged: boolean): TF.Tensor => {
    const shape = toMerged ? [nb * t, qDim] : [n, gt, hd];
    return jsKernel(tf, [x], shape, ([src], out) => {
      for (let b = 0; b < nb; b++) {
        for (let p = 0; p < t; p++) {
          for (let hq = 0; hq < nHeads; hq++) {
            const h = Math.floor(hq / group);
            const headed = ((b * kvh + h) * gt + (hq % group) * t + p) * hd;
            const merged = (b * t + p) * qDim + hq * hd;
            if (toMerged) out.set(src.subarray(headed, headed + hd), merged);
            else out.set(src.subarray(merged, merged + hd), headed);
          }
        }
      }
    });
  };

  const fn = tf.customGrad(((x: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    const qh = heads(x, 'q', false); // [n, G*T, hd], RoPE'd and scaled
    const khT = heads(x, 'k', true); // [n, hd, T], RoPE'd
    const vh = heads(x, 'v', false); // [n, T, hd]
    const scores = batchedMatMul(tf, qh, khT); // [n, G*T, T]
    const probs = tf.reshape(tf.softmax(tf.add(tf.reshape(scores, [n * group, t, t]), c.mask)), [n, gt, t]);
    save([probs, qh, khT, vh]);
    return {
      value: mergeHeads(batchedMatMul(tf, probs as TF.Tensor3D, vh), true),
      gradFunc: (dy: TF.Tensor | TF.Tensor[], saved: TF.Tensor[]) => {
        const [sp, sq, skT, sv] = saved as TF.Tensor3D[];
        const dAtt = mergeHeads(Array.isArray(dy) ? dy[0] : dy, false) as TF.Tensor3D; // [n, G*T, hd]
        const dProbs = batchedMatMul(tf, dAtt, transposeLast2(tf, sv)); // [n, G*T, T]
        const dV = batchedMatMul(tf, transposeLast2(tf, sp), dAtt); // [n, T, hd]
        // softmax backward: dS = P (dP - sum(P dP)) per row
        // (causal: row r is query position r % T, whose probabilities past it are exactly 0)
        const dS = jsKernel(tf, [sp, dProbs], [n, gt, t], ([pr, dp], out) => {
          for (let r = 0; r < n * gt; r++) {
            const o = r * t;
            const last = (r % t) + 1;
            let dot = 0;
            for (let k = 0; k < last; k++) dot += pr[o + k] * dp[o + k];
            for (let k = 0; k < last; k++) out[o + k] = pr[o + k] * (dp[o + k] - dot);
            out.fill(0, o + last, o + t);
          }
        }) as TF.Tensor3D;
        const dQ = batchedMatMul(tf, dS, transposeLast2(tf, skT)); // [n, G*T, hd]
        const dKT = batchedMatMul(tf, transposeLast2(tf, sq), dS); // [n, hd, T]
        // back to qkv rows, through RoPE's transpose (and the scale for q)
        const dx = jsKernel(tf, [dQ, dKT, dV], [nb * t, width], ([gq, gk, gv], out) => {
          scatterHeads(gq, out, qBack);
          scatterHeads(gk, out, kBack);
          scatterHeads(gv, out, vBack);
        });
        return [dx];
      },
    };
  }) as unknown as Parameters<Tf['customGrad']>[0]);
  return fn(qkv) as TF.Tensor2D;
}
