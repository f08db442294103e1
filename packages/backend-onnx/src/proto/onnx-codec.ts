import { ModelFormatError } from '@slmkit/core';
import type protobuf from 'protobufjs';
import { ONNX_PROTO_DESCRIPTOR } from './onnx-descriptor.js';

/** ONNX TensorProto.DataType values used here. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type OnnxDataTypeValue = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** ONNX AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

type Int64 = number | protobuf.Long;

export interface TensorProto {
  name: string;
  dims: Int64[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: Int64[];
  int32Data?: number[];
  dataLocation?: number;
  externalData?: { key: string; value: string }[];
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: Int64[];
}

export interface NodeProto {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: AttributeProto[];
}

export interface DimensionProto {
  dimValue?: Int64;
  dimParam?: string;
}

export interface ValueInfoProto {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: DimensionProto[] } } };
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  irVersion: Int64;
  producerName?: string;
  producerVersion?: string;
  graph: GraphProto;
  opsetImport: { domain: string; version: Int64 }[];
  metadataProps?: { key: string; value: string }[];
}

let modelType: Promise<protobuf.Type> | undefined;

/**
 * The ModelProto type, built on first use: protobufjs is imported only by code that writes or parses ONNX bytes, so
 * loading a model folder (onnxruntime reads the file itself) never pays for it.
 */
function onnxModelType(): Promise<protobuf.Type> {
  modelType ??= import('protobufjs').then(({ default: runtime }) =>
    runtime.Root.fromJSON(ONNX_PROTO_DESCRIPTOR as unknown as protobuf.INamespace).lookupType('onnx.ModelProto'),
  );
  return modelType;
}

/** Serialises a model with protobufjs. */
export async function encodeOnnxModel(model: ModelProto): Promise<Uint8Array> {
  const type = await onnxModelType();
  return type.encode(type.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/** Parses ONNX bytes; throws ModelFormatError naming the file when they are not a valid ModelProto. */
export async function decodeOnnxModel(bytes: Uint8Array, file?: string): Promise<ModelProto> {
  const type = await onnxModelType();
  let decoded: protobuf.Message;
  try {
    decoded = type.decode(bytes);
  } catch (error) {
    throw new ModelFormatError(
      `is not a readable ONNX model (truncated or corrupt protobuf): ${(error as Error).message}`,
      {
        file,
        cause: error,
      },
    );
  }
  const model = type.toObject(decoded, { longs: Number, defaults: true, arrays: true }) as ModelProto;
  if (!model.graph || model.graph.node.length === 0) {
    throw new ModelFormatError('ONNX model has no graph nodes', { file, field: 'graph' });
  }
  return model;
}

/** Number of a possibly-Long int64 field. */
export function int64ToNumber(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value.toString());
}
