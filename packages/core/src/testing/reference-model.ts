import type { ModelSpec } from '../model/model-spec.js';
import { headDim as headDimOf, kvDim as kvDimOf } from '../model/model-spec.js';
import { LlamaTensorNames as N, validateLlamaWeights, type Weights } from '../model/weights.js';

/**
 * A Llama-family decoder in plain TypeScript over Float32Array, written to be read: the blocks of llama2.c's
 * `forward` (RMSNorm, RoPE, grouped-query attention with a KV cache, SwiGLU), one token at a time.
 * It is the reference every runtime backend is checked against.
 */

interface LayerWeights {
  attnNorm: Float32Array;
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  ffnNorm: Float32Array;
  wGate: Float32Array;
  wDown: Float32Array;
  wUp: Float32Array;
}

export interface ReferenceWeights {
  tokenEmbedding: Float32Array;
  layers: LayerWeights[];
  outputNorm: Float32Array;
  classifier: Float32Array;
}

/** Decodes every tensor to float32 (views where already f32) in the layout the forward pass uses. */
export function prepareReferenceWeights(spec: ModelSpec, weights: Weights): ReferenceWeights {
  validateLlamaWeights(spec, weights);
  const f = (name: string) => weights.float32(name);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < spec.nLayers; l++) {
    layers.push({
      attnNorm: f(N.attnNorm(l)),
      wq: f(N.attnQ(l)),
      wk: f(N.attnK(l)),
      wv: f(N.attnV(l)),
      wo: f(N.attnOutput(l)),
      ffnNorm: f(N.ffnNorm(l)),
      wGate: f(N.ffnGate(l)),
      wDown: f(N.ffnDown(l)),
      wUp: f(N.ffnUp(l)),
    });
  }
  const tokenEmbedding = f(N.tokenEmbedding);
  return {
    tokenEmbedding,
    layers,
    outputNorm: f(N.outputNorm),
    classifier: spec.tiedEmbeddings ? tokenEmbedding : f(N.output),
  };
}

/** out = W x, with W row-major [rows, cols]. */
export function matVec(out: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += w[base + c] * x[c];
    out[r] = sum;
  }
}

export function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = weight[i] * (x[i] * scale);
}

/** Rotates each head of `v` (heads x headSize) for position `pos`, pairing dimensions as `spec.ropeLayout` says. */
export function applyRope(v: Float32Array, heads: number, headSize: number, pos: number, spec: ModelSpec): void {
  const half = headSize / 2;
  for (let h = 0; h < heads; h++) {
    const base = h * headSize;
    for (let j = 0; j < half; j++) {
      const freq = 1 / spec.ropeTheta ** ((2 * j) / headSize);
      const angle = pos * freq;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = spec.ropeLayout === 'adjacent' ? base + 2 * j : base + j;
      const b = spec.ropeLayout === 'adjacent' ? a + 1 : a + half;
      const x0 = v[a];
      const x1 = v[b];
      v[a] = x0 * cos - x1 * sin;
      v[b] = x0 * sin + x1 * cos;
    }
  }
}

/** Scratch buffers and the KV cache of one sequence. */
export class ReferenceState {
  readonly keyCache: Float32Array[];
  readonly valueCache: Float32Array[];
  readonly x: Float32Array;
  readonly xb: Float32Array;
  readonly xb2: Float32Array;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly att: Float32Array;
  readonly hb: Float32Array;
  readonly hb2: Float32Array;

  constructor(spec: ModelSpec, contextSize: number) {
    const kv = kvDimOf(spec);
    this.keyCache = Array.from({ length: spec.nLayers }, () => new Float32Array(contextSize * kv));
    this.valueCache = Array.from({ length: spec.nLayers }, () => new Float32Array(contextSize * kv));
    this.x = new Float32Array(spec.dim);
    this.xb = new Float32Array(spec.dim);
    this.xb2 = new Float32Array(spec.dim);
    this.q = new Float32Array(spec.dim);
    this.k = new Float32Array(kv);
    this.v = new Float32Array(kv);
    this.att = new Float32Array(contextSize);
    this.hb = new Float32Array(spec.ffnDim);
    this.hb2 = new Float32Array(spec.ffnDim);
  }
}

/**
 * Runs one token at position `pos` through the model, updating the cache. Returns the final hidden state
 * (after the output norm) in `state.x`; call `classify` for logits.
 */
export function forwardToken(
  spec: ModelSpec,
  w: ReferenceWeights,
  state: ReferenceState,
  token: number,
  pos: number,
): void {
  const { dim, nHeads, nKvHeads, ffnDim } = spec;
  const headSize = headDimOf(spec);
  const kv = kvDimOf(spec);
  const group = nHeads / nKvHeads;
  const { x, xb, xb2, q, k, v, att, hb, hb2 } = state;
  x.set(w.tokenEmbedding.subarray(token * dim, (token + 1) * dim));

  for (let l = 0; l < spec.nLayers; l++) {
    const layer = w.layers[l];
    // attention
    rmsNorm(xb, x, layer.attnNorm, spec.normEps);
    matVec(q, layer.wq, xb, dim, dim);
    matVec(k, layer.wk, xb, kv, dim);
    matVec(v, layer.wv, xb, kv, dim);
    applyRope(q, nHeads, headSize, pos, spec);
    applyRope(k, nKvHeads, headSize, pos, spec);
    const keys = state.keyCache[l];
    const values = state.valueCache[l];
    keys.set(k, pos * kv);
    values.set(v, pos * kv);
    const scale = 1 / Math.sqrt(headSize);
    for (let h = 0; h < nHeads; h++) {
      const qOffset = h * headSize;
      const kvOffset = Math.floor(h / group) * headSize;
      let max = Number.NEGATIVE_INFINITY;
      for (let t = 0; t <= pos; t++) {
        let score = 0;
        const base = t * kv + kvOffset;
        for (let i = 0; i < headSize; i++) score += q[qOffset + i] * keys[base + i];
        score *= scale;
        att[t] = score;
        if (score > max) max = score;
      }
      let sum = 0;
      for (let t = 0; t <= pos; t++) {
        att[t] = Math.exp(att[t] - max);
        sum += att[t];
      }
      for (let i = 0; i < headSize; i++) xb[qOffset + i] = 0;
      for (let t = 0; t <= pos; t++) {
        const a = att[t] / sum;
        const base = t * kv + kvOffset;
        for (let i = 0; i < headSize; i++) xb[qOffset + i] += a * values[base + i];
      }
    }
    matVec(xb2, layer.wo, xb, dim, dim);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];

    // feed-forward (SwiGLU)
    rmsNorm(xb, x, layer.ffnNorm, spec.normEps);
    matVec(hb, layer.wGate, xb, ffnDim, dim);
    matVec(hb2, layer.wUp, xb, ffnDim, dim);
    for (let i = 0; i < ffnDim; i++) {
      const g = hb[i];
      hb[i] = (g / (1 + Math.exp(-g))) * hb2[i];
    }
    matVec(xb, layer.wDown, hb, dim, ffnDim);
    for (let i = 0; i < dim; i++) x[i] += xb[i];
  }
  rmsNorm(x, x, w.outputNorm, spec.normEps);
}

/** Logits of the hidden state in `state.x`, written to `out`. */
export function classify(spec: ModelSpec, w: ReferenceWeights, state: ReferenceState, out: Float32Array): void {
  matVec(out, w.classifier, state.x, spec.vocabSize, spec.dim);
}
