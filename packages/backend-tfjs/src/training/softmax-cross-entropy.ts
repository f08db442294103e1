import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';
import { wasmHeap } from './js-kernel.js';

/**
 * Mean cross-entropy of `logits` [n, vocab] against `targets` (n ids) as one op: the forward pass is one softmax
 * plus a gather of the n target probabilities (no one-hot of the vocabulary, no log-softmax chain); the gradient is
 * (softmax - onehot) * dy / n, the one-hot part written into the n target cells in place on wasm.
 */
export function softmaxCrossEntropy(tf: Tf, logits: TF.Tensor2D, targets: Int32Array): TF.Scalar {
  const [n, vocab] = logits.shape;
  if (targets.length !== n) throw new Error(`softmaxCrossEntropy: ${targets.length} targets for ${n} rows`);
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) flat[i] = i * vocab + targets[i];
  const fn = tf.customGrad(((x: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    const probs = tf.softmax(x as TF.Tensor2D);
    save([probs]);
    const picked = tf.gather(tf.reshape(probs, [n * vocab]), tf.tensor1d(flat, 'int32'));
    // -log p; p is clamped at the smallest normal float so a saturated softmax gives a large finite loss
    return {
      value: tf.neg<TF.Scalar>(tf.mean<TF.Scalar>(tf.log(tf.maximum(picked, 1.1754944e-38)))),
      gradFunc: (dy: TF.Tensor | TF.Tensor[], saved: TF.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0] : dy;
        const [p] = saved;
        const heap = wasmHeap(tf);
        if (heap) {
          const s = heap.typedArrayFromHeap(g)[0] / n;
          const out = tf.mul(p, s);
          const view = heap.typedArrayFromHeap(out);
          for (let i = 0; i < n; i++) view[flat[i]] -= s;
          return [out];
        }
        return [tf.mul(tf.sub(p, tf.oneHot(tf.tensor1d(targets, 'int32'), vocab)), tf.div(g, n))];
      },
    };
  }) as unknown as Parameters<Tf['customGrad']>[0]);
  return fn(logits) as TF.Scalar;
}
