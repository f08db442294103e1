import type { ModelProto, NodeProto, TensorProto } from '../proto/onnx-codec.js';
import { int64ToNumber, OnnxAttributeType, OnnxDataType } from '../proto/onnx-codec.js';

/**
 * Linear layers of decoder graphs rewritten as 1x1 convolutions, for onnxruntime's CPU provider: its NCHWc
 * layout pass turns such a Conv into MLAS's blocked pointwise kernel, which streams a decode step's weights about 1.5x
 * faster than the prepacked SGEMM behind MatMul (M = 1 is a matrix-vector product, bound by memory bandwidth).
 * The pass reorders each filter into a block layout that depends on the CPU (8 or 16 channels), so a rewritten
 * graph is only worth running once onnxruntime has optimised it on the machine that runs it (see cpu-tuning.ts).
 */

/** Weights smaller than this many elements stay MatMul: the reorder nodes around a Conv cost more than they save. */
export const CONV_LINEAR_MIN_ELEMENTS = 65_536;
/** Both channel counts must be multiples of the largest NCHWc block (16 floats with AVX-512). */
export const CONV_LINEAR_CHANNEL_MULTIPLE = 16;

/** One MatMul to rewrite: y = x W with x [B, S, K] and a constant weight of `k` x `n`. */
export interface ConvLinear {
  node: NodeProto;
  /** The initializer holding the weight. */
  weight: TensorProto;
  k: number;
  n: number;
  /**
   * `kn`: the initializer is W [K, N] (MatMul's own layout; the filter is its transpose). `nk`: the MatMul's weight
   * is `Transpose(initializer)` of an initializer [N, K] (a tied embedding table), already the filter's layout.
   */
  layout: 'kn' | 'nk';
  /** Name of the filter initializer [N, K, 1, 1] the rewritten graph reads. */
  filter: string;
}

const SUBGRAPH_OPS = new Set(['If', 'Loop', 'Scan']);

const dimsOf = (tensor: TensorProto) => tensor.dims.map((d) => int64ToNumber(d));

/**
 * The MatMuls of a graph worth running as Conv: a float32 weight constant of at least CONV_LINEAR_MIN_ELEMENTS with
 * channel counts divisible by CONV_LINEAR_CHANNEL_MULTIPLE. The rewrite takes each one's input to be
 * [batch, sequence, K], as in slmkit's graphs and Optimum's decoder exports; in a graph where that does not hold,
 * onnxruntime rejects the rewritten graph (or its logits differ), and tuning records that the graph runs as it is.
 * Graphs with subgraphs get no plan.
 */
export function planConvLinears(model: ModelProto): ConvLinear[] {
  // Subgraphs (If / Loop / Scan, e.g. Optimum's merged decoders) read outer values this rewrite does not track.
  if (model.graph.node.some((n) => SUBGRAPH_OPS.has(n.opType))) return [];
  const initializers = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const producers = new Map<string, NodeProto>();
  for (const node of model.graph.node) for (const out of node.output) producers.set(out, node);
  const plan: ConvLinear[] = [];
  for (const node of model.graph.node) {
    if (node.opType !== 'MatMul' || (node.domain ?? '') !== '' || node.input.length !== 2) continue;
    const b = node.input[1] as string;
    let weight = initializers.get(b);
    let layout: ConvLinear['layout'] = 'kn';
    if (!weight) {
      const producer = producers.get(b);
      const perm = producer?.attribute?.find((a) => a.name === 'perm')?.ints?.map((v) => int64ToNumber(v));
      if (producer?.opType !== 'Transpose' || perm?.join(',') !== '1,0') continue;
      weight = initializers.get(producer.input[0] as string);
      layout = 'nk';
    }
    if (!weight || weight.dataType !== OnnxDataType.FLOAT) continue;
    const dims = dimsOf(weight);
    if (dims.length !== 2) continue;
    const [k, n] = layout === 'kn' ? (dims as [number, number]) : [dims[1] as number, dims[0] as number];
    if (k * n < CONV_LINEAR_MIN_ELEMENTS) continue;
    if (k % CONV_LINEAR_CHANNEL_MULTIPLE !== 0 || n % CONV_LINEAR_CHANNEL_MULTIPLE !== 0) continue;
    plan.push({ node, weight, k, n, layout, filter: `${weight.name}.conv_filter` });
  }
  return plan;
}

/**
 * The graph with every planned MatMul replaced by x [B, S, K] -> Transpose [B, K, S] -> Unsqueeze [B, K, S, 1] ->
 * Conv (filter [N, K, 1, 1]) -> Squeeze -> Transpose [B, S, N], writing the MatMul's own output name (the sequence
 * is the convolution's height, so a prompt of S tokens still reads each filter once). `filters` are the new
 * initializers (the caller fills their data); initializers no node reads any more are dropped, and Transposes that
 * only fed a rewritten MatMul go with them.
 */
export function applyConvLinears(model: ModelProto, plan: readonly ConvLinear[], filters: TensorProto[]): ModelProto {
  const byNode = new Map(plan.map((p) => [p.node, p]));
  const axes = 'conv_linear.axes';
  const nodes: NodeProto[] = [];
  for (const node of model.graph.node) {
    const linear = byNode.get(node);
    if (!linear) {
      nodes.push(node);
      continue;
    }
    const base = node.name || (node.output[0] as string);
    const x = node.input[0] as string;
    const y = node.output[0] as string;
    const step = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []) =>
      nodes.push({
        name: `${base}/${output.split('/').pop()}`,
        opType,
        domain: '',
        input,
        output: [output],
        attribute,
      });
    const perm = [{ name: 'perm', type: OnnxAttributeType.INTS, ints: [0, 2, 1] }];
    step('Transpose', [x], `${base}/channels_first`, perm);
    step('Unsqueeze', [`${base}/channels_first`, axes], `${base}/image`);
    step('Conv', [`${base}/image`, linear.filter], `${base}/conv`);
    step('Squeeze', [`${base}/conv`, axes], `${base}/channels`);
    step('Transpose', [`${base}/channels`], y, perm);
  }
  // Drop what only the rewritten MatMuls used (a Transpose of a tied table, the [K, N] weights).
  const live = (list: NodeProto[]) => {
    const read = new Set(list.flatMap((n) => n.input));
    for (const out of model.graph.output) read.add(out.name);
    return read;
  };
  let kept = nodes;
  for (;;) {
    const read = live(kept);
    const next = kept.filter((n) => n.output.some((o) => read.has(o)));
    if (next.length === kept.length) break;
    kept = next;
  }
  const read = live(kept);
  const axesTensor: TensorProto = {
    name: axes,
    dims: [1],
    dataType: OnnxDataType.INT64,
    rawData: new Uint8Array(BigInt64Array.of(3n).buffer),
  };
  const initializer = [...model.graph.initializer.filter((t) => read.has(t.name)), ...filters, axesTensor];
  return { ...model, graph: { ...model.graph, node: kept, initializer } };
}

/**
 * Rows [from, to) of the transpose [N, K] of W [K, N] (float32), read column slab by column slab through `readRow`
 * (row `row` of W, columns [from, to), into `into`), so a large weight is never held whole.
 */
export function transposedRows(
  k: number,
  from: number,
  to: number,
  readRow: (row: number, into: Float32Array) => void,
): Float32Array {
  const width = to - from;
  const out = new Float32Array(width * k);
  const slab = new Float32Array(width);
  for (let row = 0; row < k; row++) {
    readRow(row, slab);
    for (let col = 0; col < width; col++) out[col * k + row] = slab[col] as number;
  }
  return out;
}
