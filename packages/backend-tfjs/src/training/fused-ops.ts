import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';
import { jsKernel } from './js-kernel.js';

type GradFn = Parameters<Tf['customGrad']>[0];

// Tensors the backward pass needs go through customGrad's `save`: tfjs disposes the forward pass's intermediates
// before backpropagating, so a closure over an input would see a disposed tensor.

/**
 * RMSNorm x [n, dim] * gain [dim] as one op: forward and backward are one JS pass each (instead of ~6 and ~10 tfjs
 * kernels). Row statistics are accumulated in float64.
 */
export function rmsNorm(tf: Tf, x: TF.Tensor2D, gain: TF.Tensor, eps: number): TF.Tensor2D {
  const [n, dim] = x.shape;
  const fn = tf.customGrad(((xs: TF.Tensor, g: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    save([xs, g]);
    return {
      value: jsKernel(tf, [xs, g], [n, dim], ([src, w], out) => {
        for (let r = 0; r < n; r++) {
          const o = r * dim;
          let ss = 0;
          for (let j = 0; j < dim; j++) ss += src[o + j] * src[o + j];
          const inv = 1 / Math.sqrt(ss / dim + eps);
          for (let j = 0; j < dim; j++) out[o + j] = src[o + j] * inv * w[j];
        }
      }),
      gradFunc: (dy: TF.Tensor | TF.Tensor[], saved: TF.Tensor[]) => {
        const gy = Array.isArray(dy) ? dy[0] : dy;
        const [sx, sg] = saved;
        const dGain = new Float64Array(dim);
        const dx = jsKernel(tf, [sx, sg, gy], [n, dim], ([src, w, d], out) => {
          for (let r = 0; r < n; r++) {
            const o = r * dim;
            let ss = 0;
            let dot = 0;
            for (let j = 0; j < dim; j++) {
              ss += src[o + j] * src[o + j];
              dot += d[o + j] * w[j] * src[o + j];
            }
            const inv = 1 / Math.sqrt(ss / dim + eps);
            const k = (inv * inv * inv * dot) / dim;
            for (let j = 0; j < dim; j++) {
              out[o + j] = inv * d[o + j] * w[j] - src[o + j] * k;
              dGain[j] += d[o + j] * src[o + j] * inv;
            }
          }
        });
        return [dx, tf.tensor(Float32Array.from(dGain), sg.shape)];
      },
    };
  }) as unknown as GradFn);
  return fn(x, gain) as TF.Tensor2D;
}

/**
 * SwiGLU of a fused gate|up row block [n, 2f] -> silu(gate) * up [n, f]. The sigmoid is tfjs's kernel (over both
 * halves: cheaper than Math.exp in JS), the rest one JS pass each way.
 */
export function swiglu(tf: Tf, gateUp: TF.Tensor2D): TF.Tensor2D {
  const [n, width] = gateUp.shape;
  const f = width / 2;
  const fn = tf.customGrad(((gu: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    save([gu]);
    const sig = tf.sigmoid(gu);
    return {
      value: jsKernel(tf, [gu, sig], [n, f], ([src, sg], out) => {
        for (let r = 0; r < n; r++) {
          const o = r * width;
          const q = r * f;
          for (let j = 0; j < f; j++) out[q + j] = src[o + j] * sg[o + j] * src[o + f + j];
        }
      }),
      gradFunc: (dy: TF.Tensor | TF.Tensor[], saved: TF.Tensor[]) => {
        const gy = Array.isArray(dy) ? dy[0] : dy;
        const s2 = tf.sigmoid(saved[0]);
        const dgu = jsKernel(tf, [saved[0], s2, gy], [n, width], ([src, sg, d], out) => {
          for (let r = 0; r < n; r++) {
            const o = r * width;
            const q = r * f;
            for (let j = 0; j < f; j++) {
              const g = src[o + j];
              const u = src[o + f + j];
              const s = sg[o + j];
              const dj = d[q + j];
              out[o + j] = dj * u * s * (1 + g * (1 - s));
              out[o + f + j] = dj * g * s;
            }
          }
        });
        s2.dispose();
        return [dgu];
      },
    };
  }) as unknown as GradFn);
  return fn(gateUp) as TF.Tensor2D;
}
