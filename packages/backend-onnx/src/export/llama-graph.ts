import { convertRopeLayout, headDim, type ModelData, type ModelSpec, LlamaTensorNames as N } from '@slmkit/core';
import type { ModelProto } from '../proto/onnx-codec.js';
import { OnnxDataType } from '../proto/onnx-codec.js';
import { GraphBuilder } from './graph-builder.js';
import { causalVisibility, feedForward, type Linear, MASKED, type Norm, ropeCacheInitializers } from './layer-parts.js';
import { declareSlotIo, type QkvProjection, SLOT_NAMES, slotLayers } from './slot-layers.js';
import { DEFAULT_QUANT_BLOCK_SIZE, quantizeBlockwise8, transpose } from './weight-encoding.js';

/** How the weight matrices are stored. */
export type OnnxWeightFormat = 'fp32' | 'int8';

export interface LlamaGraphOptions {
  /** `fp32` (default) or `int8`: blockwise 8-bit weights run by ORT's `MatMulNBits` (com.microsoft). */
  weights?: OnnxWeightFormat;
  /**
   * Use ONNX Runtime fused operators where they cut nodes (`SimplifiedLayerNormalization`). Default false: standard
   * ONNX ops only, which any runtime runs (ORT fuses the RMSNorm pattern itself at load).
   */
  fused?: boolean;
  /** Block size of the int8 variant. Default 128 (smaller for narrow rows). */
  quantBlockSize?: number;
  /**
   * `accuracy_level` of MatMulNBits: 0 computes in float32 from dequantised weights; 4 (default) quantises the
   * activations to int8 per block too (about 2x faster on x86).
   */
  accuracyLevel?: number;
  /**
   * `optimum` (default): Optimum's decoder-with-past I/O (what transformers.js runs). `slots`: slmkit's KV-slot
   * decoder (`SLOT_NAMES`): fixed-capacity caches in, only the new tokens' keys/values out; uses ORT contrib ops.
   */
  kvLayout?: 'optimum' | 'slots';
  /**
   * KV-slot graphs of untied models only: take `inputs_embeds` [B, S, hidden] instead of `input_ids`, the rows
   * gathered by the caller from the table in another graph's data file (`EmbeddingRows`), so onnxruntime never maps
   * the table. Ignored otherwise.
   */
  embeddingsInput?: boolean;
  /** ONNX opset of the default domain. Default 17. */
  opset?: number;
  producerVersion?: string;
}

export const ONNX_INPUT_NAMES = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
} as const;
export const pastKeyName = (layer: number) => `past_key_values.${layer}.key`;
export const pastValueName = (layer: number) => `past_key_values.${layer}.value`;
export const presentKeyName = (layer: number) => `present.${layer}.key`;
export const presentValueName = (layer: number) => `present.${layer}.value`;
/** Input of KV-slot graphs that leave the embedding lookup to the caller, [batch, seq, hidden] (HF's name). */
export const INPUTS_EMBEDS = 'inputs_embeds';
/** Output with the final hidden states after the output norm, [batch, seq, hidden] (HF's `last_hidden_state`). */
export const LAST_HIDDEN_STATE = 'last_hidden_state';

/** Name of the merged q/k/v projection made at export. */
const qkvWeightName = (layer: number) => `blk.${layer}.attn_qkv.weight`;

/** The largest power of two <= `preferred` that does not exceed the row length (at least 16, MatMulNBits' minimum). */
function blockSizeFor(k: number, preferred: number): number {
  let size = preferred;
  while (size > 16 && size > k) size /= 2;
  return size;
}

/**
 * Builds the ONNX decoder graph of a Llama-family model in Optimum's layout (KV cache in and out). RoPE runs in
 * the `half` layout: weights stored `adjacent` are permuted at export (the attention scores are unchanged by a
 * consistent permutation of each head's q and k dimensions), so the graph needs no interleave ops. The attention
 * scale 1/sqrt(headDim) is folded into wq.
 */
export function buildLlamaOnnxModel(model: ModelData, options: LlamaGraphOptions = {}): ModelProto {
  const { spec, weights } = convertRopeLayout(model.spec, model.weights, 'half');
  const format = options.weights ?? 'fp32';
  const blockSize = options.quantBlockSize ?? DEFAULT_QUANT_BLOCK_SIZE;
  const g = new GraphBuilder();
  const D = spec.dim;
  const KV = spec.nKvHeads;
  const hd = headDim(spec);
  let usesContrib = false;

  const slots = options.kvLayout === 'slots';
  const embeddingsInput = slots && options.embeddingsInput === true && !spec.tiedEmbeddings;
  // input_ids, or for untied KV-slot graphs the rows themselves.
  const tokens = embeddingsInput
    ? g.input(INPUTS_EMBEDS, OnnxDataType.FLOAT, ['batch_size', 'sequence_length', D])
    : g.input(ONNX_INPUT_NAMES.inputIds, OnnxDataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = slots
    ? ''
    : g.input(ONNX_INPUT_NAMES.attentionMask, OnnxDataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input(ONNX_INPUT_NAMES.positionIds, OnnxDataType.INT64, ['batch_size', 'sequence_length']);
  if (slots) {
    g.output('logits', OnnxDataType.FLOAT, ['batch_size', 'logit_positions', spec.vocabSize]);
    declareSlotIo(g, spec);
  } else {
    for (let l = 0; l < spec.nLayers; l++) {
      g.input(pastKeyName(l), OnnxDataType.FLOAT, ['batch_size', KV, 'past_sequence_length', hd]);
      g.input(pastValueName(l), OnnxDataType.FLOAT, ['batch_size', KV, 'past_sequence_length', hd]);
    }
    g.output('logits', OnnxDataType.FLOAT, ['batch_size', 'sequence_length', spec.vocabSize]);
    for (let l = 0; l < spec.nLayers; l++) {
      g.output(presentKeyName(l), OnnxDataType.FLOAT, ['batch_size', KV, 'total_sequence_length', hd]);
      g.output(presentValueName(l), OnnxDataType.FLOAT, ['batch_size', KV, 'total_sequence_length', hd]);
    }
  }
  g.output(LAST_HIDDEN_STATE, OnnxDataType.FLOAT, ['batch_size', 'sequence_length', D]);

  // --- weights -------------------------------------------------------------------------------------------------
  type QuantizedWeight = { b: string; scales: string; blocks: number; blockSize: number };
  const quantized = new Map<string, QuantizedWeight>();
  /** Matrices made at export (the merged q/k/v projection), looked up before the model's own weights. */
  const derived = new Map<string, { shape: readonly number[]; values: Float32Array }>();
  const shapeOf = (name: string) => derived.get(name)?.shape ?? weights.get(name).shape;
  const valuesOf = (name: string) => derived.get(name)?.values ?? weights.float32(name);
  const quantize = (name: string, scale = 1): QuantizedWeight => {
    const cached = quantized.get(name);
    if (cached) return cached;
    const [n, k] = shapeOf(name);
    let values = valuesOf(name);
    if (scale !== 1) values = values.map((v) => v * scale);
    const size = blockSizeFor(k, blockSize);
    const q = quantizeBlockwise8(values, n, k, size);
    const entry = {
      b: g.initializer(`${name}.q8`, OnnxDataType.UINT8, [n, q.blocks, size], q.data),
      scales: g.float(`${name}.scales`, [n * q.blocks], q.scales),
      blocks: q.blocks,
      blockSize: size,
    };
    quantized.set(name, entry);
    return entry;
  };
  /** y = x W^T for a canonical [out, in] weight. */
  const linear = (x: string, name: string, scale = 1): string => {
    const [n, k] = shapeOf(name);
    if (format === 'int8') {
      usesContrib = true;
      const q = quantize(name, scale);
      return g.op(
        'MatMulNBits',
        [x, q.b, q.scales],
        { K: k, N: n, bits: 8, block_size: q.blockSize, accuracy_level: options.accuracyLevel ?? 4 },
        { domain: 'com.microsoft' },
      );
    }
    let values = valuesOf(name);
    if (scale !== 1) values = values.map((v) => v * scale);
    const w = g.float(`${name}.T`, [k, n], transpose(values, n, k));
    return g.op('MatMul', [x, w]);
  };
  /** RMSNorm with gain `name`; `out` names its result (the final norm writes the last_hidden_state output). */
  const rmsNorm = (x: string, name: string, out?: string): string => {
    const w = g.float(name, [D], weights.float32(name));
    if (options.fused) {
      return g.op('SimplifiedLayerNormalization', [x, w], { axis: -1, epsilon: { float: spec.normEps } }, { out });
    }
    const pow = g.op('Pow', [x, g.floats([2], [])]);
    const mean = g.op('ReduceMean', [pow], { axes: [-1], keepdims: 1 });
    const plus = g.op('Add', [mean, g.floats([spec.normEps], [])]);
    const root = g.op('Sqrt', [plus]);
    const normed = g.op('Div', [x, root]);
    return g.op('Mul', [normed, w], {}, { out });
  };

  // --- embeddings ----------------------------------------------------------------------------------------------
  let x: string;
  if (embeddingsInput) {
    x = tokens;
  } else if (format === 'int8') {
    // Gather rows of the quantised table and dequantise them: [B, S, blocks, block] * scales[B, S, blocks, 1].
    const q = quantize(N.tokenEmbedding);
    const rows = g.op('Gather', [q.b, tokens], { axis: 0 });
    const scales3 = g.op('Reshape', [q.scales, g.int64s([spec.vocabSize, q.blocks, 1])]);
    const rowScales = g.op('Gather', [scales3, tokens], { axis: 0 });
    const asFloat = g.op('Cast', [rows], { to: OnnxDataType.FLOAT });
    const centred = g.op('Sub', [asFloat, g.floats([128], [])]);
    const scaled = g.op('Mul', [centred, rowScales]);
    const flat = g.op('Reshape', [scaled, g.int64s([0, 0, q.blocks * q.blockSize])]);
    x = q.blocks * q.blockSize === D ? flat : g.op('Slice', [flat, g.int64s([0]), g.int64s([D]), g.int64s([-1])]);
  } else {
    const table = g.float(N.tokenEmbedding, [spec.vocabSize, D], weights.float32(N.tokenEmbedding));
    x = g.op('Gather', [table, tokens], { axis: 0 });
  }

  /** q/k/v as the GroupQueryAttention graph stores them (unscaled, separate), so both graphs share those weights. */
  const separateQkv: QkvProjection = (h, l) => [
    g.op('Mul', [linear(h, N.attnQ(l)), g.floats([1 / Math.sqrt(hd)], [])]),
    linear(h, N.attnK(l)),
    linear(h, N.attnV(l)),
  ];
  /** One MatMul for q, k and v (rows [wq / sqrt(headDim); wk; wv]), split after. */
  const mergedQkv: QkvProjection = (h, l) =>
    g.opMulti(
      'Split',
      [linear(h, qkvWeightName(l)), g.int64s([spec.nHeads * hd, KV * hd, KV * hd])],
      [g.fresh('q'), g.fresh('k'), g.fresh('v')],
      { axis: -1 },
    ) as [string, string, string];
  if (options.fused && headDim(spec) % 16 === 0) {
    x = slots
      ? slotLayers(g, spec, x, tokens, positionIds, separateQkv, linear, rmsNorm)
      : fusedLayers(g, spec, x, attentionMask, linear, rmsNorm);
  } else {
    // ORT's GroupQueryAttention needs head sizes that are multiples of 16; smaller heads keep explicit attention,
    // with the contrib RotaryEmbedding op when fused.
    // One MatMul for q, k and v (rows [wq / sqrt(headDim); wk; wv]), split after: fewer nodes per layer.
    const scale = 1 / Math.sqrt(headDim(spec));
    for (let l = 0; l < spec.nLayers; l++) {
      const q = weights.float32(N.attnQ(l));
      const k = weights.float32(N.attnK(l));
      const v = weights.float32(N.attnV(l));
      const values = new Float32Array(q.length + k.length + v.length);
      for (let i = 0; i < q.length; i++) values[i] = q[i] * scale;
      values.set(k, q.length);
      values.set(v, q.length + k.length);
      derived.set(qkvWeightName(l), { shape: [values.length / D, D], values });
    }
    x = slots
      ? slotLayers(g, spec, x, tokens, positionIds, mergedQkv, linear, rmsNorm)
      : standardLayers(g, spec, x, attentionMask, positionIds, linear, rmsNorm, options.fused === true);
  }

  // The final norm's result is itself the last_hidden_state output (no extra node; decode runs need not fetch it).
  const final = rmsNorm(x, N.outputNorm, LAST_HIDDEN_STATE);
  const outputName = spec.tiedEmbeddings ? N.tokenEmbedding : N.output;
  // KV-slot graphs project only positions from `logits_from` on: a prefill that needs one row skips S - 1
  // vocabulary projections and the [S, vocab] output copy (one MatMul either way, so ORT prepacks its weight once).
  const projected = slots
    ? g.op('Slice', [final, SLOT_NAMES.logitsFrom, g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([1])])
    : final;
  if (format === 'int8' || !spec.tiedEmbeddings) {
    // linear() stores its own transposed (fp32) or quantised copy; with int8 a tied table is shared with Gather.
    g.op('Identity', [linear(projected, outputName)], {}, { out: 'logits' });
  } else {
    const tableT = g.op('Transpose', [N.tokenEmbedding], { perm: [1, 0] });
    g.op('MatMul', [projected, tableT], {}, { out: 'logits' });
  }
  if (options.fused || slots) usesContrib = true;

  const opsetImport = [{ domain: '', version: options.opset ?? 17 }];
  if (usesContrib) opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return {
    irVersion: 8,
    producerName: 'slmkit',
    producerVersion: options.producerVersion ?? '0.1.0',
    graph: g.graph(spec.name.replace(/[^\w.-]/g, '_') || 'llama'),
    opsetImport,
    metadataProps: [
      { key: 'slmkit.architecture', value: 'llama' },
      { key: 'slmkit.weights', value: format },
      { key: 'slmkit.fused', value: options.fused ? 'true' : 'false' },
      { key: 'slmkit.kv_layout', value: slots ? 'slots' : 'optimum' },
      { key: 'slmkit.embeddings_input', value: embeddingsInput ? 'true' : 'false' },
      { key: 'slmkit.rope_layout_in_graph', value: 'half' },
      { key: 'slmkit.source_rope_layout', value: model.spec.ropeLayout },
    ],
  };
}

/** The decoder layers in standard ONNX ops (any runtime): explicit RoPE, causal mask, GQA by broadcasting. */
function standardLayers(
  g: GraphBuilder,
  spec: ModelSpec,
  input: string,
  attentionMask: string,
  positionIds: string,
  linear: Linear,
  rmsNorm: Norm,
  contribRope: boolean,
): string {
  let x = input;
  const H = spec.nHeads;
  const KV = spec.nKvHeads;
  const hd = headDim(spec);
  const group = H / KV;
  const inputIds = ONNX_INPUT_NAMES.inputIds;
  // --- RoPE tables [B, 1, S, hd] ------------------------------------------------------------------------------
  let tables: { cos: string; sin: string } | undefined;
  /** cos/sin [B, 1, S, hd] from position_ids, built on first use (the contrib-op path does not need them). */
  const ropeTables = (): { cos: string; sin: string } => {
    if (tables) return tables;
    const invFreq = new Float32Array(hd / 2);
    for (let i = 0; i < hd / 2; i++) invFreq[i] = 1 / spec.ropeTheta ** ((2 * i) / hd);
    const positions = g.op('Cast', [positionIds], { to: OnnxDataType.FLOAT });
    const positions3 = g.op('Unsqueeze', [positions, g.int64s([2])]);
    const freqs = g.op('Mul', [positions3, g.float('rope.inv_freq', [hd / 2], invFreq)]);
    const angles = g.op('Concat', [freqs, freqs], { axis: -1 });
    tables = {
      cos: g.op('Unsqueeze', [g.op('Cos', [angles]), g.int64s([1])]),
      sin: g.op('Unsqueeze', [g.op('Sin', [angles]), g.int64s([1])]),
    };
    return tables;
  };
  const ropeCaches = contribRope ? ropeCacheInitializers(g, spec) : undefined;
  /** RoPE on [B, S, heads * hd] with com.microsoft.RotaryEmbedding (one node). */
  const contribRopeOp = (t: string): string =>
    ropeCaches
      ? g.op(
          'RotaryEmbedding',
          [t, positionIds, ropeCaches.cos, ropeCaches.sin],
          { interleaved: 0 },
          { domain: 'com.microsoft' },
        )
      : t;
  const rope = (t: string): string => {
    if (ropeCaches) return t;
    const [a, b] = g.opMulti('Split', [t, g.int64s([hd / 2, hd / 2])], [g.fresh('rope_a'), g.fresh('rope_b')], {
      axis: -1,
    });
    const rotated = g.op('Concat', [g.op('Neg', [b]), a], { axis: -1 });
    const { cos, sin } = ropeTables();
    return g.op('Add', [g.op('Mul', [t, cos]), g.op('Mul', [rotated, sin])]);
  };

  // --- attention bias [B, 1, group * S, T] (causal and padding; query rows tiled once per head of a KV group) ----
  const total = g.op('Shape', [attentionMask], { start: 1, end: 2 });
  const seq = g.op('Shape', [inputIds], { start: 1, end: 2 });
  const past = g.op('Sub', [total, seq]);
  const scalar = (t: string) => g.op('Squeeze', [t, g.int64s([0])]);
  const zero = g.int64s([0], []);
  const one = g.int64s([1], []);
  const keyPositions = g.op('Range', [zero, scalar(total), one]);
  const queryRange = g.op('Range', [scalar(past), scalar(total), one]);
  const causal = causalVisibility(g, keyPositions, queryRange, group);
  const padding = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: OnnxDataType.BOOL }), g.int64s([1, 2])]);
  const allowed = g.op('And', [causal, padding]);
  const bias = g.op('Where', [allowed, g.floats([0], []), g.floats([MASKED], [])]);

  // --- layers ----------------------------------------------------------------------------------------------------
  for (let l = 0; l < spec.nLayers; l++) {
    const h = rmsNorm(x, N.attnNorm(l));
    const heads = (t: string, n: number) =>
      g.op('Transpose', [g.op('Reshape', [t, g.int64s([0, 0, n, hd])])], { perm: [0, 2, 1, 3] });
    const [qRaw, kRaw, vRaw] = g.opMulti(
      'Split',
      [linear(h, qkvWeightName(l)), g.int64s([H * hd, KV * hd, KV * hd])],
      [g.fresh('q'), g.fresh('k'), g.fresh('v')],
      { axis: -1 },
    );
    const q = rope(heads(contribRopeOp(qRaw), H));
    const k = rope(heads(contribRopeOp(kRaw), KV));
    const v = heads(vRaw, KV);
    const presentK = g.op('Concat', [pastKeyName(l), k], { axis: 2 }, { out: presentKeyName(l) });
    const presentV = g.op('Concat', [pastValueName(l), v], { axis: 2 }, { out: presentValueName(l) });
    const keysT = g.op('Transpose', [presentK], { perm: [0, 1, 3, 2] });
    let context: string;
    if (group > 1) {
      // GQA without copying the cache: the query heads of each KV head become extra query rows
      // ([B, KV, group * S, hd]; head kv * group + j, position s -> row j * S + s), so K/V are used as they are.
      const grouped = g.op('Reshape', [q, g.int64s([0, KV, -1, hd])]);
      const scores = g.op('MatMul', [grouped, keysT]);
      const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
      const ctx = g.op('MatMul', [probs, presentV]);
      context = g.op('Reshape', [ctx, g.int64s([0, H, -1, hd])]);
    } else {
      const scores = g.op('MatMul', [q, keysT]);
      const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
      context = g.op('MatMul', [probs, presentV]);
    }
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.int64s([0, 0, H * hd])]);
    x = g.op('Add', [x, linear(merged, N.attnOutput(l))]);
    x = feedForward(g, x, l, linear, rmsNorm);
  }

  return x;
}

/**
 * The decoder layers with ONNX Runtime's fused `com.microsoft.GroupQueryAttention` (RoPE from cos/sin caches,
 * causal GQA and the KV concat in one node per layer): about a third of the standard graph's nodes.
 */
function fusedLayers(
  g: GraphBuilder,
  spec: ModelSpec,
  input: string,
  attentionMask: string,
  linear: Linear,
  rmsNorm: Norm,
): string {
  let x = input;
  const hd = headDim(spec);
  const { cos, sin } = ropeCacheInitializers(g, spec);
  // seqlens_k = tokens in the mask - 1 (int32 [B]); total_sequence_length = mask length (int32 scalar).
  const maskSum = g.op('ReduceSum', [attentionMask, g.int64s([1])], { keepdims: 0 });
  const seqlens = g.op('Cast', [g.op('Sub', [maskSum, g.int64s([1], [])])], { to: OnnxDataType.INT32 });
  const totalLength = g.op(
    'Cast',
    [g.op('Squeeze', [g.op('Shape', [attentionMask], { start: 1, end: 2 }), g.int64s([0])])],
    {
      to: OnnxDataType.INT32,
    },
  );
  for (let l = 0; l < spec.nLayers; l++) {
    const h = rmsNorm(x, N.attnNorm(l));
    const q = linear(h, N.attnQ(l));
    const k = linear(h, N.attnK(l));
    const v = linear(h, N.attnV(l));
    const attention = g.fresh('gqa');
    g.opMulti(
      'GroupQueryAttention',
      [q, k, v, pastKeyName(l), pastValueName(l), seqlens, totalLength, cos, sin],
      [attention, presentKeyName(l), presentValueName(l)],
      {
        num_heads: spec.nHeads,
        kv_num_heads: spec.nKvHeads,
        do_rotary: 1,
        rotary_interleaved: 0,
        scale: { float: 1 / Math.sqrt(hd) },
      },
      { domain: 'com.microsoft' },
    );
    x = g.op('Add', [x, linear(attention, N.attnOutput(l))]);
    x = feedForward(g, x, l, linear, rmsNorm);
  }
  return x;
}
