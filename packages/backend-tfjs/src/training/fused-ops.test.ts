import type { RopeLayout } from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activateTf, type Tf } from '../tfjs-runtime.js';
import { type AttentionDims, causalAttention } from './fused-attention.js';
import { rmsNorm, swiglu } from './fused-ops.js';
import { batchedMatMul, matMul2d, tiedLogits, transposeLast2 } from './matmul-ops.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';
import { TrainRng } from './train-rng.js';
import { ropeTables } from './trainable-llama.js';

/** The attention this package trained with before the fused op: tfjs ops only, batched matmuls, autodiff. */
function referenceAttention(tf: Tf, qkv: TF.Tensor2D, d: AttentionDims, cos: Float32Array, sin: Float32Array) {
  const { batch, seqLen: t, nHeads, nKvHeads: kvHeads, headDim: hd } = d;
  const group = nHeads / kvHeads;
  const qDim = nHeads * hd;
  const kv = kvHeads * hd;
  const cosT = tf.tensor3d(cos, [t, 1, hd]);
  const sinT = tf.tensor3d(sin, [t, 1, hd]);
  const adjacent = d.ropeLayout === 'adjacent';
  const sign = adjacent ? tf.tensor([-1, 1], [1, 1, 1, 2]) : tf.tensor([-1, 1], [1, 1, 2, 1]);
  const rope = (x: TF.Tensor4D) => {
    const [b, tt, heads] = x.shape;
    const split = adjacent ? [b * tt, heads, hd / 2, 2] : [b * tt, heads, 2, hd / 2];
    const swapped = tf.reshape(tf.mul(tf.reverse(tf.reshape(x, split), adjacent ? 3 : 2), sign), [b, tt, heads, hd]);
    return tf.add(tf.mul(x, cosT), tf.mul(swapped, sinT)) as TF.Tensor4D;
  };
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) mask.fill(-1e9, i * t + i + 1, (i + 1) * t);
  const [q, k, val] = tf.split(qkv, [qDim, kv, kv], 1);
  const qr = rope(tf.reshape(q, [batch, t, nHeads, hd]));
  const kr = rope(tf.reshape(k, [batch, t, kvHeads, hd]));
  const qh = tf.reshape(tf.transpose(tf.reshape(qr, [batch, t, kvHeads, group, hd]), [0, 2, 3, 1, 4]), [
    batch * kvHeads,
    group * t,
    hd,
  ]) as TF.Tensor3D;
  const kh = tf.reshape(tf.transpose(kr, [0, 2, 1, 3]), [batch * kvHeads, t, hd]) as TF.Tensor3D;
  const vh = tf.reshape(tf.transpose(tf.reshape(val, [batch, t, kvHeads, hd]), [0, 2, 1, 3]), [
    batch * kvHeads,
    t,
    hd,
  ]) as TF.Tensor3D;
  const scores = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(hd));
  const masked = tf.add(tf.reshape(scores, [batch * kvHeads, group, t, t]), tf.tensor2d(mask, [t, t]));
  const probs = tf.reshape(tf.softmax(masked), [batch * kvHeads, group * t, t]) as TF.Tensor3D;
  const attended = tf.matMul(probs, vh);
  return tf.reshape(tf.transpose(tf.reshape(attended, [batch, kvHeads, group, t, hd]), [0, 3, 1, 2, 4]), [
    batch * t,
    qDim,
  ]) as TF.Tensor2D;
}

function randomTensor(tf: Tf, shape: number[], seed: number, std = 1): TF.Tensor {
  const rng = new TrainRng(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
  return tf.tensor(v, shape);
}

function maxAbsDiff(a: TF.Tensor, b: TF.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max;
}

for (const kernel of ['wasm', 'cpu'] as const) {
  describe(`fused training ops on tfjs-${kernel}`, () => {
    for (const ropeLayout of ['half', 'adjacent'] as RopeLayout[]) {
      it(`causalAttention (${ropeLayout} RoPE, GQA) equals the tfjs-ops formulation, values and gradients`, async () => {
        const tf = await activateTf(kernel);
        const d: AttentionDims = { batch: 3, seqLen: 7, nHeads: 4, nKvHeads: 2, headDim: 8, ropeLayout };
        const { cos, sin } = ropeTables({ ...specDims(d), ropeTheta: 10_000, ropeLayout }, 7);
        const width = (d.nHeads + 2 * d.nKvHeads) * d.headDim;
        const before = tf.memory().numTensors;
        const mask = new Float32Array(7 * 7);
        for (let i = 0; i < 7; i++) mask.fill(-1e9, i * 7 + i + 1, (i + 1) * 7);
        const maskT = tf.tensor2d(mask, [7, 7]);
        const qkv = randomTensor(tf, [d.batch * d.seqLen, width], 1) as TF.Tensor2D;
        const upstream = randomTensor(tf, [d.batch * d.seqLen, d.nHeads * d.headDim], 2);
        const fused = (x: TF.Tensor) =>
          tf.sum(tf.mul(causalAttention(tf, tf.mul(x, 1) as TF.Tensor2D, d, { cos, sin, mask: maskT }), upstream));
        const reference = (x: TF.Tensor) =>
          tf.sum(tf.mul(referenceAttention(tf, x as TF.Tensor2D, d, cos, sin), upstream));
        tf.tidy(() => {
          const a = causalAttention(tf, qkv, d, { cos, sin, mask: maskT });
          const b = referenceAttention(tf, qkv, d, cos, sin);
          expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
          // the output is not trivially zero or a copy of the input
          expect(tf.max(tf.abs(a)).dataSync()[0]).toBeGreaterThan(0.1);
          const ga = tf.grad(fused)(qkv);
          const gb = tf.grad(reference)(qkv);
          expect(tf.max(tf.abs(gb)).dataSync()[0]).toBeGreaterThan(0.1);
          expect(maxAbsDiff(ga, gb)).toBeLessThan(1e-4);
        });
        tf.dispose([maskT, qkv, upstream]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('softmaxCrossEntropy equals -mean(onehot * logSoftmax), values and gradients', async () => {
      const tf = await activateTf(kernel);
      const logits = randomTensor(tf, [6, 11], 3, 3) as TF.Tensor2D;
      const targets = Int32Array.from([0, 10, 5, 5, 2, 7]);
      const reference = (x: TF.Tensor) =>
        tf.neg(
          tf.mean(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(targets, 'int32'), 11), tf.logSoftmax(x as TF.Tensor2D)), -1)),
        );
      tf.tidy(() => {
        const fused = (x: TF.Tensor) => tf.mul(softmaxCrossEntropy(tf, tf.mul(x, 1) as TF.Tensor2D, targets), 2.5);
        expect(
          Math.abs(softmaxCrossEntropy(tf, logits, targets).dataSync()[0] - reference(logits).dataSync()[0]),
        ).toBeLessThan(1e-5);
        const ga = tf.grad(fused)(logits);
        const gb = tf.grad((x: TF.Tensor) => tf.mul(reference(x), 2.5))(logits);
        expect(maxAbsDiff(ga, gb)).toBeLessThan(1e-6);
        expect(tf.max(tf.abs(gb)).dataSync()[0]).toBeGreaterThan(0.05);
      });
      logits.dispose();
    });

    it('rmsNorm, swiglu, matMul2d and tiedLogits equal their tfjs-ops formulations, values and gradients', async () => {
      const tf = await activateTf(kernel);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = randomTensor(tf, [5, 6], 6, 2) as TF.Tensor2D;
        const gain = randomTensor(tf, [6], 7);
        const w = randomTensor(tf, [6, 4], 8) as TF.Tensor2D;
        const table = randomTensor(tf, [9, 6], 9) as TF.Tensor2D;
        const gu = randomTensor(tf, [5, 8], 10, 2) as TF.Tensor2D;
        const cases: Array<
          [string, TF.Tensor[], (...xs: TF.Tensor[]) => TF.Tensor, (...xs: TF.Tensor[]) => TF.Tensor]
        > = [
          [
            'rmsNorm',
            [x, gain],
            (a, g) => rmsNorm(tf, a as TF.Tensor2D, g, 1e-5),
            (a, g) => tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.square(a), -1, true), 1e-5))), g),
          ],
          [
            'swiglu',
            [gu],
            (a) => swiglu(tf, a as TF.Tensor2D),
            (a) => {
              const [gate, up] = tf.split(a, 2, 1);
              return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
            },
          ],
          ['matMul2d', [x, w], (a, b) => matMul2d(tf, a as TF.Tensor2D, b as TF.Tensor2D), (a, b) => tf.matMul(a, b)],
          [
            'tiedLogits',
            [x, table],
            (a, e) => tiedLogits(tf, a as TF.Tensor2D, e as TF.Tensor2D),
            (a, e) => tf.matMul(a, e, false, true),
          ],
        ];
        for (const [name, inputs, fused, reference] of cases) {
          const a = fused(...inputs);
          const b = reference(...inputs);
          expect(maxAbsDiff(a, b), name).toBeLessThan(1e-5);
          const up = randomTensor(tf, a.shape, 11);
          // inputs pass through an op first, so they are intermediates the forward pass disposes before backprop
          const ga = tf.grads((...xs: TF.Tensor[]) => tf.sum(tf.mul(fused(...xs.map((t) => tf.mul(t, 1))), up)))(
            inputs,
          );
          const gb = tf.grads((...xs: TF.Tensor[]) => tf.sum(tf.mul(reference(...xs), up)))(inputs);
          for (let i = 0; i < inputs.length; i++) {
            expect(tf.max(tf.abs(gb[i])).dataSync()[0], `${name} grad ${i}`).toBeGreaterThan(0.05);
            expect(maxAbsDiff(ga[i], gb[i]), `${name} grad ${i}`).toBeLessThan(1e-4);
          }
        }
      });
      expect(tf.memory().numTensors).toBe(before);
    });

    it('batchedMatMul and transposeLast2 equal tf.matMul / tf.transpose', async () => {
      const tf = await activateTf(kernel);
      tf.tidy(() => {
        const a = randomTensor(tf, [5, 9, 4], 4) as TF.Tensor3D;
        const b = randomTensor(tf, [5, 4, 6], 5) as TF.Tensor3D;
        expect(maxAbsDiff(batchedMatMul(tf, a, b), tf.matMul(a, b))).toBeLessThan(1e-5);
        expect(maxAbsDiff(transposeLast2(tf, a), tf.transpose(a, [0, 2, 1]))).toBe(0);
        const tall = randomTensor(tf, [1, 37, 20], 6) as TF.Tensor3D; // the blocked JS path on wasm
        expect(maxAbsDiff(transposeLast2(tf, tall), tf.transpose(tall, [0, 2, 1]))).toBe(0);
      });
    });
  });
}

function specDims(d: AttentionDims) {
  return {
    architecture: 'llama' as const,
    name: 'test',
    vocabSize: 16,
    dim: d.nHeads * d.headDim,
    nLayers: 1,
    nHeads: d.nHeads,
    nKvHeads: d.nKvHeads,
    ffnDim: 8,
    contextLength: d.seqLen,
    normEps: 1e-5,
    tiedEmbeddings: true,
  };
}
