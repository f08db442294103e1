import {
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  OnnxAttributeType,
  OnnxDataType,
  type TensorProto,
  type ValueInfoProto,
} from '../proto/onnx-codec.js';

export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] } | TensorProto;

/** A symbolic or fixed dimension of a graph input/output. */
export type Dim = number | string;

function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'number') return { name, type: OnnxAttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: OnnxAttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: OnnxAttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: OnnxAttributeType.FLOATS, floats: value.floats };
  return { name, type: OnnxAttributeType.TENSOR, t: value };
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function bytesOf(values: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Builds an ONNX graph node by node: unique value names, initializers, typed inputs/outputs. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly #constants = new Map<string, string>();
  #counter = 0;

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.#counter++}`;
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a node with one output (named `out` or a fresh name) and returns that output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    options: { out?: string; domain?: string; name?: string } = {},
  ): string {
    const out = options.out ?? this.fresh(opType.toLowerCase());
    this.opMulti(opType, inputs, [out], attrs, options);
    return out;
  }

  /** Adds a node with several outputs. */
  opMulti(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    options: { domain?: string; name?: string } = {},
  ): readonly string[] {
    this.nodes.push({
      name: options.name ?? `${opType}_${this.nodes.length}`,
      opType,
      domain: options.domain ?? '',
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** Adds an initializer from raw little-endian bytes. */
  initializer(name: string, dataType: number, dims: readonly number[], data: Uint8Array): string {
    this.initializers.push({ name, dataType, dims: [...dims], rawData: data });
    return name;
  }

  float(name: string, dims: readonly number[], values: Float32Array): string {
    return this.initializer(name, OnnxDataType.FLOAT, dims, bytesOf(values));
  }

  /** An int64 constant (shared by value), e.g. a Reshape shape or an axes list. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.fresh('const_i64');
      this.initializer(name, OnnxDataType.INT64, dims, bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))));
      this.#constants.set(key, name);
    }
    return name;
  }

  /** A float32 constant (shared by value); a scalar when `dims` is []. */
  floats(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.fresh('const_f32');
      this.float(name, dims, Float32Array.from(values));
      this.#constants.set(key, name);
    }
    return name;
  }

  graph(name: string): GraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }
}
