import { SlmError } from '@slmkit/core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../export/graph-builder.js';
import { decodeOnnxModel, encodeOnnxModel, int64ToNumber, OnnxDataType } from './onnx-codec.js';

describe('ONNX protobuf codec (protobufjs, onnx.proto field numbers)', () => {
  it('round-trips a graph: nodes, attributes, initializers, symbolic dims, opsets', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', OnnxDataType.FLOAT, ['batch', 3]);
    const w = g.float('w', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const y = g.op('MatMul', [x, w]);
    g.op('Softmax', [y], { axis: -1 }, { out: 'y' });
    g.output('y', OnnxDataType.FLOAT, ['batch', 2]);
    const bytes = await encodeOnnxModel({
      irVersion: 8,
      graph: g.graph('tiny'),
      opsetImport: [{ domain: '', version: 17 }],
    });
    const model = await decodeOnnxModel(bytes, 'tiny.onnx');
    expect(int64ToNumber(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, int64ToNumber(o.version)])).toEqual([['', 17]]);
    expect(model.graph.node.map((n) => n.opType)).toEqual(['MatMul', 'Softmax']);
    expect(int64ToNumber(model.graph.node[1].attribute?.[0].i)).toBe(-1);
    const init = model.graph.initializer[0];
    expect(init.dims.map(int64ToNumber)).toEqual([3, 2]);
    expect(Array.from(new Float32Array(Uint8Array.from(init.rawData ?? []).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    const dims = model.graph.input[0].type?.tensorType?.shape?.dim ?? [];
    expect(dims[0].dimParam).toBe('batch');
    expect(int64ToNumber(dims[1].dimValue)).toBe(3);
  });

  it('a truncated or corrupt file is a ModelFormatError naming the file', async () => {
    const g = new GraphBuilder();
    g.op('Identity', [g.input('x', OnnxDataType.FLOAT, [1])], {}, { out: 'y' });
    const bytes = await encodeOnnxModel({
      irVersion: 8,
      graph: g.graph('t'),
      opsetImport: [{ domain: '', version: 17 }],
    });
    for (const bad of [bytes.subarray(0, bytes.length - 3), Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])]) {
      let error: unknown;
      try {
        await decodeOnnxModel(bad, 'bad.onnx');
      } catch (e) {
        error = e;
      }
      expect(SlmError.isInstance(error) && error.code).toBe('MODEL_FORMAT');
      expect((error as SlmError).file).toBe('bad.onnx');
    }
  });
});
