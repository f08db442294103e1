// The smallest model onnxruntime will load: one Identity node, float32 [1] -> [1], written as protobuf by hand (so
// a process measuring the runtime's memory floor loads nothing but onnxruntime-node).

function varint(n) {
  const out = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

const field = (no, bytes) => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
const int = (no, n) => [...varint(no << 3), ...varint(n)];
const str = (no, s) => field(no, [...new TextEncoder().encode(s)]);

/** ModelProto { ir_version 8, graph { Identity x -> y }, opset 17 } with x, y float32 [1]. */
export function minimalOnnxModel() {
  const tensorType = field(1, [...int(1, 1), ...field(2, field(1, int(1, 1)))]);
  const valueInfo = (name) => [...str(1, name), ...field(2, tensorType)];
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')];
  const graph = [...field(1, node), ...str(2, 'g'), ...field(11, valueInfo('x')), ...field(12, valueInfo('y'))];
  return new Uint8Array([...int(1, 8), ...field(7, graph), ...field(8, int(2, 17))]);
}
