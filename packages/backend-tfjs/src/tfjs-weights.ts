import {
  headDim,
  kvDim,
  type ModelSpec,
  LlamaTensorNames as N,
  validateLlamaWeights,
  type Weights,
} from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './tfjs-runtime.js';

/**
 * The weights of one layer laid out for few tfjs ops per token. Norm gains are folded into the matrices that
 * follow them, the attention scale into the query rows, and RoPE's pair swap into extra columns:
 * `attn` = [q | k | rot(q) | rot(k) | v] as one [dim, 2*qDim + 3*kvDim] matrix, so one matmul, one multiply by the
 * position's [cos | cos | sin | sin | 1] row and one split give rotated q, k and v.
 */
export interface TfjsLayer {
  attn: TF.Tensor2D;
  wo: TF.Tensor2D;
  /** [gate | up]: [dim, 2*ffnDim]. */
  gateUp: TF.Tensor2D;
  down: TF.Tensor2D;
}

export interface TfjsWeights {
  embedding: TF.Tensor2D;
  layers: TfjsLayer[];
  /** Output norm gain folded in: [dim, vocab]. */
  classifier: TF.Tensor2D;
  /** The output norm gain [dim], unfolded: final hidden states (embeddings) are `rmsNormalize(x) * outputNorm`. */
  outputNorm: TF.Tensor1D;
  /** [contextLength, 2*qDim + 3*kvDim]: per position, the factors the `attn` output is multiplied by. */
  ropeTable: TF.Tensor2D;
  /**
   * [2*qDim + 3*kvDim, qDim + 2*kvDim]: sums q*cos + rot(q)*sin (and k likewise) and passes v through, so one
   * matmul turns the rope-scaled `attn` output into [q | k | v].
   */
  ropeSum: TF.Tensor2D;
  /** RMSNorm epsilon as a [1] bias for the fused mean-of-squares matmul. */
  eps: TF.Tensor1D;
  /** [dim, 1] filled with 1/dim: the mean over features as one matmul. */
  meanColumn: TF.Tensor2D;
  /** Split sizes of the scaled `attn` output: q, k, rot(q), rot(k), v. */
  splits: [number, number, number, number, number];
}

/** [rows, cols] row-major -> [cols, rows] row-major, scaling column c of the source by `colScale[c]`. */
function transposeScaled(
  src: Float32Array,
  rows: number,
  cols: number,
  colScale?: Float32Array,
  rowScale = 1,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c] * (colScale ? colScale[c] : 1) * rowScale;
  }
  return out;
}

/** Rows of W (heads x headSize, in) rotated by 90 degrees in each RoPE pair: rot(W x) = rot(W) x. */
function rotateRows(
  w: Float32Array,
  heads: number,
  headSize: number,
  cols: number,
  layout: ModelSpec['ropeLayout'],
): Float32Array {
  const out = new Float32Array(w.length);
  const half = headSize / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = h * headSize + (layout === 'adjacent' ? 2 * i : i);
      const b = layout === 'adjacent' ? a + 1 : a + half;
      for (let c = 0; c < cols; c++) {
        out[a * cols + c] = -w[b * cols + c];
        out[b * cols + c] = w[a * cols + c];
      }
    }
  }
  return out;
}

/** 0/1 matrix mapping [q, k, rot q, rot k, v] (scaled) to [q + rot q, k + rot k, v]. */
function ropeSumMatrix(qDim: number, kv: number): Float32Array {
  const rows = 2 * qDim + 3 * kv;
  const cols = qDim + 2 * kv;
  const m = new Float32Array(rows * cols);
  for (let j = 0; j < qDim + kv; j++) {
    m[j * cols + j] = 1; // q, k
    m[(qDim + kv + j) * cols + j] = 1; // rot q, rot k
  }
  for (let j = 0; j < kv; j++) m[(2 * qDim + 2 * kv + j) * cols + qDim + kv + j] = 1; // v
  return m;
}

/** cos/sin factors per position for every q and k output dimension, in the `attn` column order. */
export function buildRopeTable(spec: ModelSpec, positions: number): Float32Array {
  const hd = headDim(spec);
  const qDim = spec.nHeads * hd;
  const kv = kvDim(spec);
  const width = 2 * qDim + 3 * kv;
  const table = new Float32Array(positions * width);
  const half = hd / 2;
  const pairIndex = (j: number) => (spec.ropeLayout === 'adjacent' ? j >> 1 : j % half);
  for (let p = 0; p < positions; p++) {
    const row = p * width;
    const fill = (offset: number, count: number, fn: (angle: number) => number) => {
      for (let j = 0; j < count; j++) {
        const i = pairIndex(j % hd);
        const angle = p / spec.ropeTheta ** ((2 * i) / hd);
        table[row + offset + j] = fn(angle);
      }
    };
    fill(0, qDim, Math.cos);
    fill(qDim, kv, Math.cos);
    fill(qDim + kv, qDim, Math.sin);
    fill(2 * qDim + kv, kv, Math.sin);
    table.fill(1, row + 2 * qDim + 2 * kv, row + width);
  }
  return table;
}

/** Builds the fused tfjs weights from core's canonical tensors. The caller owns (and must dispose) the tensors. */
export function buildTfjsWeights(tf: Tf, spec: ModelSpec, weights: Weights, positions: number): TfjsWeights {
  validateLlamaWeights(spec, weights);
  const { dim, ffnDim, nHeads, nKvHeads, vocabSize } = spec;
  const hd = headDim(spec);
  const qDim = nHeads * hd;
  const kv = kvDim(spec);
  const scale = 1 / Math.sqrt(hd);
  const f = (name: string) => weights.float32(name);
  const created: TF.Tensor[] = [];
  const keep = <T extends TF.Tensor>(t: T): T => {
    created.push(t);
    return t;
  };
  try {
    const layers: TfjsLayer[] = [];
    for (let l = 0; l < spec.nLayers; l++) {
      const gAttn = f(N.attnNorm(l));
      const wq = f(N.attnQ(l));
      const wk = f(N.attnK(l));
      const rows: Array<[Float32Array, number, number]> = [
        [wq, qDim, scale],
        [wk, kv, 1],
        [rotateRows(wq, nHeads, hd, dim, spec.ropeLayout), qDim, scale],
        [rotateRows(wk, nKvHeads, hd, dim, spec.ropeLayout), kv, 1],
        [f(N.attnV(l)), kv, 1],
      ];
      const width = 2 * qDim + 3 * kv;
      const attn = new Float32Array(dim * width);
      let col = 0;
      for (const [w, count, s] of rows) {
        for (let r = 0; r < count; r++) {
          for (let c = 0; c < dim; c++) attn[c * width + col + r] = w[r * dim + c] * gAttn[c] * s;
        }
        col += count;
      }
      const gFfn = f(N.ffnNorm(l));
      const gate = f(N.ffnGate(l));
      const up = f(N.ffnUp(l));
      const gateUp = new Float32Array(dim * 2 * ffnDim);
      for (let r = 0; r < ffnDim; r++) {
        for (let c = 0; c < dim; c++) {
          gateUp[c * 2 * ffnDim + r] = gate[r * dim + c] * gFfn[c];
          gateUp[c * 2 * ffnDim + ffnDim + r] = up[r * dim + c] * gFfn[c];
        }
      }
      layers.push({
        attn: keep(tf.tensor2d(attn, [dim, width])),
        wo: keep(tf.tensor2d(transposeScaled(f(N.attnOutput(l)), dim, qDim), [qDim, dim])),
        gateUp: keep(tf.tensor2d(gateUp, [dim, 2 * ffnDim])),
        down: keep(tf.tensor2d(transposeScaled(f(N.ffnDown(l)), dim, ffnDim), [ffnDim, dim])),
      });
    }
    const embeddingValues = f(N.tokenEmbedding);
    const classifierSource = spec.tiedEmbeddings ? embeddingValues : f(N.output);
    const classifier = transposeScaled(classifierSource, vocabSize, dim, f(N.outputNorm));
    return {
      embedding: keep(tf.tensor2d(embeddingValues, [vocabSize, dim])),
      layers,
      classifier: keep(tf.tensor2d(classifier, [dim, vocabSize])),
      outputNorm: keep(tf.tensor1d(f(N.outputNorm))),
      ropeTable: keep(tf.tensor2d(buildRopeTable(spec, positions), [positions, 2 * qDim + 3 * kv])),
      meanColumn: keep(tf.fill([dim, 1], 1 / dim) as TF.Tensor2D),
      ropeSum: keep(tf.tensor2d(ropeSumMatrix(qDim, kv), [2 * qDim + 3 * kv, qDim + 2 * kv])),
      eps: keep(tf.tensor1d([spec.normEps])),
      splits: [qDim, kv, qDim, kv, kv],
    };
  } catch (error) {
    for (const t of created) t.dispose();
    throw error;
  }
}

export function disposeTfjsWeights(w: TfjsWeights): void {
  w.embedding.dispose();
  w.classifier.dispose();
  w.outputNorm.dispose();
  w.ropeTable.dispose();
  w.meanColumn.dispose();
  w.ropeSum.dispose();
  w.eps.dispose();
  for (const l of w.layers) {
    l.attn.dispose();
    l.wo.dispose();
    l.gateUp.dispose();
    l.down.dispose();
  }
}
