import type { ModelProto } from '../proto/onnx-codec.js';

/** ONNX TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;

/**
 * Offsets of external tensors are aligned to 64 KiB, the mapping granularity onnxruntime needs to memory-map them
 * instead of copying (so weights are paged from the file, not duplicated in memory).
 */
export const EXTERNAL_DATA_ALIGNMENT = 65_536;

/** Initializers smaller than this stay inside the .onnx file. */
export const EXTERNAL_DATA_MIN_BYTES = 4_096;

export interface ExternalData {
  /** The model with large initializers pointing into `location`. */
  model: ModelProto;
  /** Pieces of the data file, in order (padding included). */
  chunks: Uint8Array[];
  byteLength: number;
}

/**
 * Moves large initializers of `model` into an external data file named `location` (relative to the .onnx file), as
 * the ONNX external-data convention describes: `data_location = EXTERNAL` and `location` / `offset` / `length`
 * entries. Returns a new ModelProto (the input is not changed) and the data file's chunks.
 */
export function externalizeInitializers(model: ModelProto, location: string): ExternalData {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = model.graph.initializer.map((tensor) => {
    const raw = tensor.rawData;
    if (!raw || raw.byteLength < EXTERNAL_DATA_MIN_BYTES) return tensor;
    const padding = (EXTERNAL_DATA_ALIGNMENT - (offset % EXTERNAL_DATA_ALIGNMENT)) % EXTERNAL_DATA_ALIGNMENT;
    if (padding > 0) {
      chunks.push(new Uint8Array(padding));
      offset += padding;
    }
    chunks.push(raw);
    const entry = {
      ...tensor,
      rawData: undefined,
      dataLocation: EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.byteLength) },
      ],
    };
    offset += raw.byteLength;
    return entry;
  });
  return { model: { ...model, graph: { ...model.graph, initializer } }, chunks, byteLength: offset };
}
