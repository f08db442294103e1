import {
  headDim,
  kvDim,
  type ModelSpec,
  LlamaTensorNames as N,
  validateLlamaWeights,
  type Weights,
} from '@slmkit/core';

/**
 * A Llama forward pass in plain JavaScript, tuned for tiny models (stories260K-sized) where a general runtime's
 * per-call overhead dominates: the same maths as core's reference model, but with the Q/K/V and gate/up
 * matrices fused into one pass each, RoPE cos/sin tables computed once, and dot products unrolled four ways.
 * Weights are float32 (decoded once at load).
 */

interface FusedLayer {
  attnNorm: Float32Array;
  /** [dim + 2 kv, dim]: Wq, Wk, Wv stacked. */
  wqkv: Float32Array;
  wo: Float32Array;
  ffnNorm: Float32Array;
  /** [2 ffn, dim]: gate then up. */
  wGateUp: Float32Array;
  wDown: Float32Array;
}

export interface TinyLlamaWeights {
  spec: ModelSpec;
  embedding: Float32Array;
  layers: FusedLayer[];
  outputNorm: Float32Array;
  classifier: Float32Array;
}

function stack(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function prepareTinyLlamaWeights(spec: ModelSpec, weights: Weights): TinyLlamaWeights {
  validateLlamaWeights(spec, weights);
  const f = (name: string) => weights.float32(name);
  const layers: FusedLayer[] = [];
  for (let l = 0; l < spec.nLayers; l++) {
    layers.push({
      attnNorm: f(N.attnNorm(l)),
      wqkv: stack([f(N.attnQ(l)), f(N.attnK(l)), f(N.attnV(l))]),
      wo: f(N.attnOutput(l)),
      ffnNorm: f(N.ffnNorm(l)),
      wGateUp: stack([f(N.ffnGate(l)), f(N.ffnUp(l))]),
      wDown: f(N.ffnDown(l)),
    });
  }
  const embedding = f(N.tokenEmbedding);
  return {
    spec,
    embedding,
    layers,
    outputNorm: f(N.outputNorm),
    classifier: spec.tiedEmbeddings ? embedding : f(N.output),
  };
}

/** out[r] = W[r] . x for r < rows; W row-major [rows, cols]. */
function matVec(out: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number): void {
  const tail = cols & ~3;
  let base = 0;
  for (let r = 0; r < rows; r++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let c = 0;
    for (; c < tail; c += 4) {
      s0 += w[base + c] * x[c];
      s1 += w[base + c + 1] * x[c + 1];
      s2 += w[base + c + 2] * x[c + 2];
      s3 += w[base + c + 3] * x[c + 3];
    }
    for (; c < cols; c++) s0 += w[base + c] * x[c];
    out[r] = s0 + s1 + (s2 + s3);
    base += cols;
  }
}

function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number, n: number): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[i] * x[i];
  const scale = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) out[i] = weight[i] * (x[i] * scale);
}

/** KV cache, scratch buffers and RoPE tables of one sequence. */
export class TinyLlamaState {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  readonly x: Float32Array;
  readonly xb: Float32Array;
  readonly xb2: Float32Array;
  readonly qkv: Float32Array;
  readonly att: Float32Array;
  readonly hb: Float32Array;
  readonly cos: Float64Array;
  readonly sin: Float64Array;

  constructor(spec: ModelSpec, contextSize: number) {
    const kv = kvDim(spec);
    const half = headDim(spec) / 2;
    this.keys = Array.from({ length: spec.nLayers }, () => new Float32Array(contextSize * kv));
    this.values = Array.from({ length: spec.nLayers }, () => new Float32Array(contextSize * kv));
    this.x = new Float32Array(spec.dim);
    this.xb = new Float32Array(spec.dim);
    this.xb2 = new Float32Array(spec.dim);
    this.qkv = new Float32Array(spec.dim + 2 * kv);
    this.att = new Float32Array(contextSize);
    this.hb = new Float32Array(2 * spec.ffnDim);
    // Angles as the reference computes them (pos * theta^(-2j/headSize)), kept in float64 like the reference.
    this.cos = new Float64Array(contextSize * half);
    this.sin = new Float64Array(contextSize * half);
    const hs = headDim(spec);
    for (let pos = 0; pos < contextSize; pos++) {
      for (let j = 0; j < half; j++) {
        const angle = pos * (1 / spec.ropeTheta ** ((2 * j) / hs));
        this.cos[pos * half + j] = Math.cos(angle);
        this.sin[pos * half + j] = Math.sin(angle);
      }
    }
  }
}

function rope(
  v: Float32Array,
  offset: number,
  heads: number,
  headSize: number,
  adjacent: boolean,
  cos: Float64Array,
  sin: Float64Array,
  row: number,
): void {
  const half = headSize / 2;
  for (let h = 0; h < heads; h++) {
    const base = offset + h * headSize;
    for (let j = 0; j < half; j++) {
      const c = cos[row + j];
      const s = sin[row + j];
      const a = adjacent ? base + 2 * j : base + j;
      const b = adjacent ? a + 1 : a + half;
      const x0 = v[a];
      const x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

/** Attention of every query head over positions 0..pos (scores, softmax, weighted values) into `out`. */
function attendGeneric(
  qkv: Float32Array,
  out: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  att: Float32Array,
  nHeads: number,
  group: number,
  hs: number,
  kv: number,
  pos: number,
  scale: number,
): void {
  for (let h = 0; h < nHeads; h++) {
    const q = h * hs;
    const kvOffset = Math.floor(h / group) * hs;
    let max = Number.NEGATIVE_INFINITY;
    for (let t = 0; t <= pos; t++) {
      const base = t * kv + kvOffset;
      let score = 0;
      for (let i = 0; i < hs; i++) score += qkv[q + i] * keys[base + i];
      score *= scale;
      att[t] = score;
      if (score > max) max = score;
    }
    let sum = 0;
    for (let t = 0; t <= pos; t++) {
      const e = Math.exp(att[t] - max);
      att[t] = e;
      sum += e;
    }
    for (let i = 0; i < hs; i++) out[q + i] = 0;
    for (let t = 0; t <= pos; t++) {
      const a = att[t] / sum;
      const base = t * kv + kvOffset;
      for (let i = 0; i < hs; i++) out[q + i] += a * values[base + i];
    }
  }
}

/** `attendGeneric` for heads of 8 dimensions (stories260K), unrolled: the query and the sums stay in registers. */
function attendHead8(
  qkv: Float32Array,
  out: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  att: Float32Array,
  nHeads: number,
  group: number,
  kv: number,
  pos: number,
  scale: number,
): void {
  for (let h = 0; h < nHeads; h++) {
    const q = h * 8;
    const q0 = qkv[q];
    const q1 = qkv[q + 1];
    const q2 = qkv[q + 2];
    const q3 = qkv[q + 3];
    const q4 = qkv[q + 4];
    const q5 = qkv[q + 5];
    const q6 = qkv[q + 6];
    const q7 = qkv[q + 7];
    const kvOffset = Math.floor(h / group) * 8;
    let max = Number.NEGATIVE_INFINITY;
    let base = kvOffset;
    for (let t = 0; t <= pos; t++, base += kv) {
      const score =
        (q0 * keys[base] +
          q1 * keys[base + 1] +
          q2 * keys[base + 2] +
          q3 * keys[base + 3] +
          q4 * keys[base + 4] +
          q5 * keys[base + 5] +
          q6 * keys[base + 6] +
          q7 * keys[base + 7]) *
        scale;
      att[t] = score;
      if (score > max) max = score;
    }
    let sum = 0;
    for (let t = 0; t <= pos; t++) {
      const e = Math.exp(att[t] - max);
      att[t] = e;
      sum += e;
    }
    let o0 = 0;
    let o1 = 0;
    let o2 = 0;
    let o3 = 0;
    let o4 = 0;
    let o5 = 0;
    let o6 = 0;
    let o7 = 0;
    base = kvOffset;
    for (let t = 0; t <= pos; t++, base += kv) {
      const a = att[t] / sum;
      o0 += a * values[base];
      o1 += a * values[base + 1];
      o2 += a * values[base + 2];
      o3 += a * values[base + 3];
      o4 += a * values[base + 4];
      o5 += a * values[base + 5];
      o6 += a * values[base + 6];
      o7 += a * values[base + 7];
    }
    out[q] = o0;
    out[q + 1] = o1;
    out[q + 2] = o2;
    out[q + 3] = o3;
    out[q + 4] = o4;
    out[q + 5] = o5;
    out[q + 6] = o6;
    out[q + 7] = o7;
  }
}

/** Runs token `token` at position `pos`; leaves the normed final hidden state in `state.x`. */
export function tinyForward(w: TinyLlamaWeights, state: TinyLlamaState, token: number, pos: number): void {
  const spec = w.spec;
  const { dim, nHeads, nKvHeads, ffnDim, normEps } = spec;
  const hs = headDim(spec);
  const kv = kvDim(spec);
  const group = nHeads / nKvHeads;
  const adjacent = spec.ropeLayout === 'adjacent';
  const { x, xb, xb2, qkv, att, hb, cos, sin } = state;
  const ropeRow = pos * (hs / 2);
  const scale = 1 / Math.sqrt(hs);
  x.set(w.embedding.subarray(token * dim, (token + 1) * dim));
  for (let l = 0; l < spec.nLayers; l++) {
    const layer = w.layers[l];
    rmsNorm(xb, x, layer.attnNorm, normEps, dim);
    matVec(qkv, layer.wqkv, xb, dim + 2 * kv, dim);
    rope(qkv, 0, nHeads, hs, adjacent, cos, sin, ropeRow);
    rope(qkv, dim, nKvHeads, hs, adjacent, cos, sin, ropeRow);
    const keys = state.keys[l];
    const values = state.values[l];
    keys.set(qkv.subarray(dim, dim + kv), pos * kv);
    values.set(qkv.subarray(dim + kv, dim + 2 * kv), pos * kv);
    if (hs === 8) attendHead8(qkv, xb, keys, values, att, nHeads, group, kv, pos, scale);
    else attendGeneric(qkv, xb, keys, values, att, nHeads, group, hs, kv, pos, scale);
    matVec(xb2, layer.wo, xb, dim, dim);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];
    rmsNorm(xb, x, layer.ffnNorm, normEps, dim);
    matVec(hb, layer.wGateUp, xb, 2 * ffnDim, dim);
    for (let i = 0; i < ffnDim; i++) {
      const g = hb[i];
      hb[i] = (g / (1 + Math.exp(-g))) * hb[ffnDim + i];
    }
    matVec(xb, layer.wDown, hb, dim, ffnDim);
    for (let i = 0; i < dim; i++) x[i] += xb[i];
  }
  rmsNorm(x, x, w.outputNorm, normEps, dim);
}

export function tinyClassify(w: TinyLlamaWeights, state: TinyLlamaState, out: Float32Array): void {
  matVec(out, w.classifier, state.x, w.spec.vocabSize, w.spec.dim);
}
