import {
  float32Tensor,
  headDim,
  kvDim,
  type ModelSpec,
  LlamaTensorNames as N,
  validateLlamaWeights,
  validateModelSpec,
  Weights,
} from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';
import { causalAttention } from './fused-attention.js';
import { rmsNorm, swiglu } from './fused-ops.js';
import { matMul2d as mm, tiedLogits } from './matmul-ops.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';
import type { TrainRng } from './train-rng.js';

/**
 * A trainable Llama in tfjs. Parameters are stored in the layout the training step wants (matrices [in, out],
 * q/k/v fused, gate/up fused), named after core's canonical tensors; `toWeights` / `fromWeights` convert.
 */
export const TrainableNames = {
  qkv: (l: number) => `blk.${l}.attn_qkv`,
  gateUp: (l: number) => `blk.${l}.ffn_gate_up`,
} as const;

export interface TrainableParams {
  /** Every trainable variable by name, in a fixed order (the optimizer and checkpoints rely on it). */
  readonly variables: Map<string, TF.Variable>;
}

/** Names and shapes of the trainable variables of `spec`, in their fixed order. */
export function trainableShapes(spec: ModelSpec): Array<[string, number[]]> {
  const { dim, ffnDim, vocabSize } = spec;
  const qDim = spec.nHeads * headDim(spec);
  const kv = kvDim(spec);
  const shapes: Array<[string, number[]]> = [[N.tokenEmbedding, [vocabSize, dim]]];
  for (let l = 0; l < spec.nLayers; l++) {
    shapes.push([N.attnNorm(l), [dim]]);
    shapes.push([TrainableNames.qkv(l), [dim, qDim + 2 * kv]]);
    shapes.push([N.attnOutput(l), [qDim, dim]]);
    shapes.push([N.ffnNorm(l), [dim]]);
    shapes.push([TrainableNames.gateUp(l), [dim, 2 * ffnDim]]);
    shapes.push([N.ffnDown(l), [ffnDim, dim]]);
  }
  shapes.push([N.outputNorm, [dim]]);
  if (!spec.tiedEmbeddings) shapes.push([N.output, [dim, vocabSize]]);
  return shapes;
}

/** GPT-2 style initial values: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers), norms 1. */
export function initialValues(spec: ModelSpec, rng: TrainRng): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  const residualStd = 0.02 / Math.sqrt(2 * spec.nLayers);
  for (const [name, shape] of trainableShapes(spec)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    if (shape.length === 1) out.fill(1);
    else {
      const std = name.endsWith('attn_output.weight') || name.endsWith('ffn_down.weight') ? residualStd : 0.02;
      for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
    }
    values.set(name, out);
  }
  return values;
}

export function createVariables(tf: Tf, spec: ModelSpec, values: Map<string, Float32Array>): TrainableParams {
  validateModelSpec(spec);
  const variables = new Map<string, TF.Variable>();
  for (const [name, shape] of trainableShapes(spec)) {
    const v = values.get(name);
    if (!v) throw new Error(`missing initial value for ${name}`);
    variables.set(name, tf.variable(tf.tensor(v, shape), true, `${name}#${Math.random().toString(36).slice(2)}`));
  }
  return { variables };
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Trainable values (layout above) -> core's canonical weights ([out, in] f32). */
export function valuesToWeights(spec: ModelSpec, values: Map<string, Float32Array>): Weights {
  const { dim, ffnDim, vocabSize } = spec;
  const qDim = spec.nHeads * headDim(spec);
  const kv = kvDim(spec);
  const get = (name: string) => values.get(name) as Float32Array;
  const tensors = [float32Tensor(N.tokenEmbedding, [vocabSize, dim], get(N.tokenEmbedding))];
  for (let l = 0; l < spec.nLayers; l++) {
    const qkvT = transpose(get(TrainableNames.qkv(l)), dim, qDim + 2 * kv); // [qDim + 2kv, dim]
    const guT = transpose(get(TrainableNames.gateUp(l)), dim, 2 * ffnDim); // [2f, dim]
    tensors.push(
      float32Tensor(N.attnNorm(l), [dim], get(N.attnNorm(l))),
      float32Tensor(N.attnQ(l), [qDim, dim], qkvT.slice(0, qDim * dim)),
      float32Tensor(N.attnK(l), [kv, dim], qkvT.slice(qDim * dim, (qDim + kv) * dim)),
      float32Tensor(N.attnV(l), [kv, dim], qkvT.slice((qDim + kv) * dim)),
      float32Tensor(N.attnOutput(l), [dim, qDim], transpose(get(N.attnOutput(l)), qDim, dim)),
      float32Tensor(N.ffnNorm(l), [dim], get(N.ffnNorm(l))),
      float32Tensor(N.ffnGate(l), [ffnDim, dim], guT.slice(0, ffnDim * dim)),
      float32Tensor(N.ffnUp(l), [ffnDim, dim], guT.slice(ffnDim * dim)),
      float32Tensor(N.ffnDown(l), [dim, ffnDim], transpose(get(N.ffnDown(l)), ffnDim, dim)),
    );
  }
  tensors.push(float32Tensor(N.outputNorm, [dim], get(N.outputNorm)));
  if (!spec.tiedEmbeddings)
    tensors.push(float32Tensor(N.output, [vocabSize, dim], transpose(get(N.output), dim, vocabSize)));
  return new Weights(tensors);
}

/** Core's canonical weights -> trainable values (for fine-tuning any model core loads). */
export function weightsToValues(spec: ModelSpec, weights: Weights): Map<string, Float32Array> {
  validateLlamaWeights(spec, weights);
  const { dim, ffnDim, vocabSize } = spec;
  const qDim = spec.nHeads * headDim(spec);
  const kv = kvDim(spec);
  const f = (name: string) => Float32Array.from(weights.float32(name));
  const values = new Map<string, Float32Array>();
  values.set(N.tokenEmbedding, f(N.tokenEmbedding));
  for (let l = 0; l < spec.nLayers; l++) {
    const stacked = new Float32Array((qDim + 2 * kv) * dim);
    stacked.set(f(N.attnQ(l)), 0);
    stacked.set(f(N.attnK(l)), qDim * dim);
    stacked.set(f(N.attnV(l)), (qDim + kv) * dim);
    const gu = new Float32Array(2 * ffnDim * dim);
    gu.set(f(N.ffnGate(l)), 0);
    gu.set(f(N.ffnUp(l)), ffnDim * dim);
    values.set(N.attnNorm(l), f(N.attnNorm(l)));
    values.set(TrainableNames.qkv(l), transpose(stacked, qDim + 2 * kv, dim));
    values.set(N.attnOutput(l), transpose(f(N.attnOutput(l)), dim, qDim));
    values.set(N.ffnNorm(l), f(N.ffnNorm(l)));
    values.set(TrainableNames.gateUp(l), transpose(gu, 2 * ffnDim, dim));
    values.set(N.ffnDown(l), transpose(f(N.ffnDown(l)), dim, ffnDim));
  }
  values.set(N.outputNorm, f(N.outputNorm));
  if (!spec.tiedEmbeddings) values.set(N.output, transpose(f(N.output), vocabSize, dim));
  return values;
}

/** Reads every variable back to JS arrays (copies). */
export function readValues(params: TrainableParams): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params.variables) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
  return out;
}

export function disposeParams(params: TrainableParams): void {
  for (const v of params.variables.values()) v.dispose();
}

/** cos and sin tables [seqLen, headDim] in the spec's RoPE layout. */
export function ropeTables(spec: ModelSpec, seqLen: number): { cos: Float32Array; sin: Float32Array } {
  const hd = headDim(spec);
  const half = hd / 2;
  const cos = new Float32Array(seqLen * hd);
  const sin = new Float32Array(seqLen * hd);
  for (let p = 0; p < seqLen; p++) {
    for (let j = 0; j < hd; j++) {
      const i = spec.ropeLayout === 'adjacent' ? j >> 1 : j % half;
      const angle = p / spec.ropeTheta ** ((2 * i) / hd);
      cos[p * hd + j] = Math.cos(angle);
      sin[p * hd + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Constants a forward pass over sequences of `seqLen` needs (caller disposes). */
export interface ForwardConstants {
  seqLen: number;
  /** [seqLen, 1, headDim] */
  cos: TF.Tensor3D;
  sin: TF.Tensor3D;
  /** [seqLen, seqLen] additive causal mask. */
  mask: TF.Tensor2D;
  /** The pair-swap sign, shaped to broadcast against the split head. */
  sign: TF.Tensor;
  /** The RoPE tables as [seqLen * headDim] arrays (the fused attention reads these). */
  ropeCos: Float32Array;
  ropeSin: Float32Array;
}

export function createForwardConstants(tf: Tf, spec: ModelSpec, seqLen: number): ForwardConstants {
  const hd = headDim(spec);
  const { cos, sin } = ropeTables(spec, seqLen);
  const mask = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) mask.fill(-1e9, i * seqLen + i + 1, (i + 1) * seqLen);
  const sign = spec.ropeLayout === 'adjacent' ? tf.tensor([-1, 1], [1, 1, 1, 2]) : tf.tensor([-1, 1], [1, 1, 2, 1]);
  return {
    seqLen,
    cos: tf.tensor3d(cos, [seqLen, 1, hd]),
    sin: tf.tensor3d(sin, [seqLen, 1, hd]),
    mask: tf.tensor2d(mask, [seqLen, seqLen]),
    sign,
    ropeCos: cos,
    ropeSin: sin,
  };
}

export function disposeForwardConstants(c: ForwardConstants): void {
  c.cos.dispose();
  c.sin.dispose();
  c.mask.dispose();
  c.sign.dispose();
}

/**
 * Embedding lookup whose gradient is a scatter-add done in JS (tfjs-wasm has no UnsortedSegmentSum kernel, and a
 * one-hot matmul would cost vocab x dim per token).
 */
function embedLookup(tf: Tf, table: TF.Tensor2D, ids: Int32Array): TF.Tensor2D {
  const vocab = table.shape[0];
  const dim = table.shape[1];
  const fn = tf.customGrad(((t: TF.Tensor, idTensor: TF.Tensor) => ({
    value: tf.gather(t as TF.Tensor2D, idTensor),
    gradFunc: (dy: TF.Tensor | TF.Tensor[]) => {
      const g = (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array;
      const out = new Float32Array(vocab * dim);
      for (let i = 0; i < ids.length; i++) {
        const o = ids[i] * dim;
        const s = i * dim;
        for (let j = 0; j < dim; j++) out[o + j] += g[s + j];
      }
      return [tf.tensor2d(out, [vocab, dim]), tf.zeros([ids.length], 'int32')];
    },
  })) as unknown as Parameters<Tf['customGrad']>[0]);
  return fn(table, tf.tensor1d(ids, 'int32')) as TF.Tensor2D;
}

/** Optional low-rank adapters: the delta added to a [in, out] matrix is A [in, r] x B [r, out] x scale. */
export interface AdapterSet {
  get(name: string): { a: TF.Variable; b: TF.Variable; scale: number } | undefined;
}

function project(tf: Tf, x: TF.Tensor2D, w: TF.Tensor, name: string, adapters?: AdapterSet): TF.Tensor2D {
  const y = mm(tf, x, w as TF.Tensor2D);
  const lora = adapters?.get(name);
  if (!lora) return y;
  return tf.add<TF.Tensor2D>(y, tf.mul(mm(tf, mm(tf, x, lora.a as TF.Tensor2D), lora.b as TF.Tensor2D), lora.scale));
}

/**
 * Logits [B*T, vocab] for a batch of token windows `ids` (B x T, row-major). Call inside tf.tidy / variableGrads.
 */
export function forwardLogits(
  tf: Tf,
  spec: ModelSpec,
  params: TrainableParams,
  ids: Int32Array,
  batch: number,
  c: ForwardConstants,
  adapters?: AdapterSet,
): TF.Tensor2D {
  const dims = {
    batch,
    seqLen: c.seqLen,
    nHeads: spec.nHeads,
    nKvHeads: spec.nKvHeads,
    headDim: headDim(spec),
    ropeLayout: spec.ropeLayout,
  };
  const attention = { cos: c.ropeCos, sin: c.ropeSin, mask: c.mask };
  const v = (name: string) => params.variables.get(name) as TF.Variable;
  let x = embedLookup(tf, v(N.tokenEmbedding) as TF.Variable<TF.Rank.R2>, ids);
  for (let l = 0; l < spec.nLayers; l++) {
    const h = rmsNorm(tf, x, v(N.attnNorm(l)), spec.normEps);
    const qkv = project(tf, h, v(TrainableNames.qkv(l)), TrainableNames.qkv(l), adapters);
    const merged = causalAttention(tf, qkv, dims, attention);
    x = tf.add<TF.Tensor2D>(x, project(tf, merged, v(N.attnOutput(l)), N.attnOutput(l), adapters));
    const h2: TF.Tensor2D = rmsNorm(tf, x, v(N.ffnNorm(l)), spec.normEps);
    const gateUp = project(tf, h2, v(TrainableNames.gateUp(l)), TrainableNames.gateUp(l), adapters);
    x = tf.add<TF.Tensor2D>(x, project(tf, swiglu(tf, gateUp), v(N.ffnDown(l)), N.ffnDown(l), adapters));
  }
  const out = rmsNorm(tf, x, v(N.outputNorm), spec.normEps);
  return spec.tiedEmbeddings
    ? tiedLogits(tf, out, v(N.tokenEmbedding) as TF.Tensor2D)
    : mm(tf, out, v(N.output) as TF.Tensor2D);
}

/** Mean cross-entropy of `logits` [n, vocab] against `targets` (n ids), fused (see softmaxCrossEntropy). */
export function crossEntropy(tf: Tf, logits: TF.Tensor2D, targets: Int32Array): TF.Scalar {
  return softmaxCrossEntropy(tf, logits, targets);
}

/**
 * Distillation loss: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE, with `teacherProbs` the
 * teacher's softmax at temperature T ([n, vocab]).
 */
export function distillationLoss(
  tf: Tf,
  logits: TF.Tensor2D,
  targets: Int32Array,
  teacherProbs: TF.Tensor2D,
  temperature: number,
  alpha: number,
): TF.Scalar {
  const ce = crossEntropy(tf, logits, targets);
  const logStudent = tf.logSoftmax(tf.div(logits, temperature));
  const logTeacher = tf.log(tf.add(teacherProbs, 1e-9));
  const kl = tf.mean(tf.sum(tf.mul(teacherProbs, tf.sub(logTeacher, logStudent)), -1));
  return tf.add<TF.Scalar>(tf.mul(kl, alpha * temperature * temperature), tf.mul(ce, 1 - alpha));
}
