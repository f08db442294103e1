import { describe, expect, it } from 'vitest';
import { OnnxDataType } from '../proto/onnx-codec.js';
import { EXTERNAL_DATA_ALIGNMENT, EXTERNAL_DATA_MIN_BYTES, externalizeInitializers } from './external-data.js';
import { GraphBuilder } from './graph-builder.js';

describe('externalizeInitializers', () => {
  it('moves large tensors to aligned offsets of the data file and keeps small ones inline', () => {
    const g = new GraphBuilder();
    g.float('small', [4], Float32Array.from([1, 2, 3, 4]));
    const big1 = Float32Array.from({ length: EXTERNAL_DATA_MIN_BYTES / 4 + 3 }, (_, i) => i);
    const big2 = Float32Array.from({ length: EXTERNAL_DATA_MIN_BYTES }, (_, i) => -i);
    g.float('big1', [big1.length], big1);
    g.float('big2', [big2.length], big2);
    const model = { irVersion: 8, graph: g.graph('t'), opsetImport: [{ domain: '', version: 17 }] };
    const { model: out, chunks, byteLength } = externalizeInitializers(model, 'model.onnx_data');
    const data = new Uint8Array(byteLength);
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.byteLength;
    }
    expect(at).toBe(byteLength);
    const [small, t1, t2] = out.graph.initializer;
    expect(small.rawData?.byteLength).toBe(16);
    expect(small.externalData).toBeUndefined();
    for (const [tensor, values] of [
      [t1, big1],
      [t2, big2],
    ] as const) {
      expect(tensor.rawData).toBeUndefined();
      expect(tensor.dataLocation).toBe(1);
      expect(tensor.dataType).toBe(OnnxDataType.FLOAT);
      const entries = Object.fromEntries((tensor.externalData ?? []).map((e) => [e.key, e.value]));
      expect(entries.location).toBe('model.onnx_data');
      const offset = Number(entries.offset);
      expect(offset % EXTERNAL_DATA_ALIGNMENT).toBe(0);
      expect(Number(entries.length)).toBe(values.byteLength);
      expect(new Float32Array(data.slice(offset, offset + values.byteLength).buffer)).toEqual(values);
    }
    // the input model is unchanged
    expect(model.graph.initializer[1].rawData?.byteLength).toBe(big1.byteLength);
  });
});
