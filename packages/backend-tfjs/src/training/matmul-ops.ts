import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';
import { jsKernel, wasmHeap } from './js-kernel.js';

/**
 * a [n, m, k] x b [n, k, p] -> [n, m, p] (not differentiable). On tfjs-wasm it runs n untransposed 2-D matmuls
 * (XNNPACK) on slices copied heap to heap: wasm's batched and transposed matmuls take a naive loop ~10x slower.
 * Elsewhere it is `tf.matMul`.
 */
export function batchedMatMul(tf: Tf, a: TF.Tensor3D, b: TF.Tensor3D): TF.Tensor3D {
  const [n, m, k] = a.shape;
  const p = b.shape[2];
  if (b.shape[0] !== n || b.shape[1] !== k)
    throw new Error(`batchedMatMul: shapes [${a.shape}] and [${b.shape}] do not match`);
  if (!wasmHeap(tf)) return tf.matMul(a, b);
  const slice = (src: TF.Tensor, i: number, rows: number, cols: number) =>
    jsKernel(tf, [src], [rows, cols], ([s], out) => out.set(s.subarray(i * rows * cols, (i + 1) * rows * cols)));
  const parts: TF.Tensor[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const ai = slice(a, i, m, k) as TF.Tensor2D;
      const bi = slice(b, i, k, p) as TF.Tensor2D;
      parts.push(tf.matMul(ai, bi));
      ai.dispose();
      bi.dispose();
    }
    return jsKernel(tf, parts, [n, m, p], (ins, out) => {
      for (let i = 0; i < n; i++) out.set(ins[i], i * m * p);
    }) as TF.Tensor3D;
  } finally {
    for (const t of parts) t.dispose();
  }
}

/**
 * [n, r, c] -> [n, c, r]. tfjs-wasm's Transpose kernel is slow on large 2-D inputs ([4096, 4096]: ~2x a tiled JS
 * loop), fine on batched and wide ones; this picks the faster per shape (always tfjs off wasm).
 */
export function transposeLast2(tf: Tf, x: TF.Tensor3D): TF.Tensor3D {
  const [n, r, c] = x.shape;
  if (!wasmHeap(tf) || n > 1 || r < c) return tf.transpose(x, [0, 2, 1]);
  // 64 x 64 tiles, writing output rows sequentially
  const tile = 64;
  return jsKernel(tf, [x], [n, c, r], ([s], out) => {
    for (let a0 = 0; a0 < r; a0 += tile) {
      const a1 = Math.min(r, a0 + tile);
      for (let b0 = 0; b0 < c; b0 += tile) {
        const b1 = Math.min(c, b0 + tile);
        for (let b = b0; b < b1; b++) {
          const o = b * r;
          for (let a = a0; a < a1; a++) out[o + a] = s[a * c + b];
        }
      }
    }
  }) as TF.Tensor3D;
}

/** [r, c] -> [c, r] (see transposeLast2). */
export function transpose2d(tf: Tf, x: TF.Tensor2D): TF.Tensor2D {
  const [r, c] = x.shape;
  return tf.reshape(transposeLast2(tf, tf.reshape(x, [1, r, c])), [c, r]);
}

/**
 * 2-D matmul x [m, k] x w [k, n] whose backward pass also uses only untransposed matmuls, with the transposes done
 * in JS (tfjs-wasm sends only untransposed `matMul` to XNNPACK, and its Transpose kernel is slow on large inputs).
 */
export function matMul2d(tf: Tf, a: TF.Tensor2D, b: TF.Tensor2D): TF.Tensor2D {
  const fn = tf.customGrad(((x: TF.Tensor, w: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    save([x, w]);
    return {
      value: tf.matMul(x as TF.Tensor2D, w as TF.Tensor2D),
      gradFunc: (dy: TF.Tensor | TF.Tensor[], saved: TF.Tensor[]) => {
        const g = (Array.isArray(dy) ? dy[0] : dy) as TF.Tensor2D;
        const [sx, sw] = saved as [TF.Tensor2D, TF.Tensor2D];
        return [tf.matMul(g, transpose2d(tf, sw)), tf.matMul(transpose2d(tf, sx), g)];
      },
    };
  }) as unknown as Parameters<Tf['customGrad']>[0]);
  return fn(a, b) as TF.Tensor2D;
}

/**
 * Logits x [m, dim] x table^T for a tied embedding table [vocab, dim]. The table's gradient is g^T x: transposing
 * the [m, vocab] gradient once costs less than x^T g, whose XNNPACK call would pack all of g as its weights and
 * re-read it from memory for every few rows of x^T.
 */
export function tiedLogits(tf: Tf, x: TF.Tensor2D, table: TF.Tensor2D): TF.Tensor2D {
  const fn = tf.customGrad(((h: TF.Tensor, e: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    save([h, e]);
    return {
      value: tf.matMul(h as TF.Tensor2D, transpose2d(tf, e as TF.Tensor2D)),
      gradFunc: (dy: TF.Tensor | TF.Tensor[], saved: TF.Tensor[]) => {
        const g = (Array.isArray(dy) ? dy[0] : dy) as TF.Tensor2D;
        const [sh, se] = saved as [TF.Tensor2D, TF.Tensor2D];
        return [tf.matMul(g, se), tf.matMul(transpose2d(tf, g), sh)];
      },
    };
  }) as unknown as Parameters<Tf['customGrad']>[0]);
  return fn(x, table) as TF.Tensor2D;
}
