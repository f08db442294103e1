import { Buffer } from 'node:buffer';
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
  /** Pieces of the data file, in order (padding included); empty when every large tensor is in `shared`. */
  chunks: Uint8Array[];
  byteLength: number;
  /** What this file holds, for a later graph to share (`location` and each tensor's offset and bytes). */
  written: SharedExternalData;
}

/** Tensors already written to an external data file, which another graph of the folder may point into. */
export interface SharedExternalData {
  location: string;
  tensors: ReadonlyMap<string, { offset: number; raw: Uint8Array }>;
}

/** Byte equality by the native memcmp (the shared weights run to gigabytes at 1B parameters). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.byteLength === b.byteLength && Buffer.compare(a, b) === 0);
}

/**
 * Moves large initializers of `model` into an external data file named `location` (relative to the .onnx file), as
 * the ONNX external-data convention describes: `data_location = EXTERNAL` and `location` / `offset` / `length`
 * entries. Returns a new ModelProto (the input is not changed) and the data file's chunks.
 */
export function externalizeInitializers(
  model: ModelProto,
  location: string,
  shared?: SharedExternalData,
): ExternalData {
  const chunks: Uint8Array[] = [];
  const tensors = new Map<string, { offset: number; raw: Uint8Array }>();
  let offset = 0;
  const pointTo = (tensor: (typeof model.graph.initializer)[number], file: string, at: number, length: number) => ({
    ...tensor,
    rawData: undefined,
    dataLocation: EXTERNAL,
    externalData: [
      { key: 'location', value: file },
      { key: 'offset', value: String(at) },
      { key: 'length', value: String(length) },
    ],
  });
  const initializer = model.graph.initializer.map((tensor) => {
    const raw = tensor.rawData;
    if (!raw || raw.byteLength < EXTERNAL_DATA_MIN_BYTES) return tensor;
    const other = shared?.tensors.get(tensor.name);
    if (shared && other && sameBytes(other.raw, raw))
      return pointTo(tensor, shared.location, other.offset, raw.byteLength);
    const padding = (EXTERNAL_DATA_ALIGNMENT - (offset % EXTERNAL_DATA_ALIGNMENT)) % EXTERNAL_DATA_ALIGNMENT;
    if (padding > 0) {
      chunks.push(new Uint8Array(padding));
      offset += padding;
    }
    chunks.push(raw);
    tensors.set(tensor.name, { offset, raw });
    const entry = pointTo(tensor, location, offset, raw.byteLength);
    offset += raw.byteLength;
    return entry;
  });
  return {
    model: { ...model, graph: { ...model.graph, initializer } },
    chunks,
    byteLength: offset,
    written: { location, tensors },
  };
}
