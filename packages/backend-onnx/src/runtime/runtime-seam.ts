import type { InferenceSession, Tensor } from 'onnxruntime-common';

/** The onnxruntime surface the backend uses; one implementation per platform (node, browser). */
export interface OrtRuntime {
  /** `onnxruntime-node` or `onnxruntime-web`. */
  readonly name: string;
  readonly version: string;
  /** Devices / execution providers this platform may use (`cpu`, `wasm`, `webgpu`). */
  readonly devices: readonly string[];
  createTensor(type: 'float32', data: Float32Array, dims: readonly number[]): Tensor;
  createTensor(type: 'int64', data: BigInt64Array, dims: readonly number[]): Tensor;
  /**
   * The device a session will run on when `requested` is asked for: what the platform has, else its default
   * (`cpu` in Node; in a browser `webgpu` when asked for `webgpu`/`gpu` and a WebGPU adapter is available, else
   * `wasm`).
   */
  resolveDevice(requested?: string): Promise<string>;
  /**
   * Creates a session from model bytes or a path/URL, on `device` as `resolveDevice` returned it. Given a path, the
   * runtime reads the file itself (Node: no copy of the whole model held in JS while ORT builds its tensors, so peak
   * memory stays near the file size).
   */
  createSession(
    model: Uint8Array | string,
    options: InferenceSession.SessionOptions,
    device?: string,
  ): Promise<InferenceSession>;
  /** Threads to use when the caller does not say. */
  defaultThreads(): number;
  /** Reads a file (Node: the filesystem; browser: fetch). Throws NotFoundError when it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /** Whether a file exists. */
  exists(path: string): Promise<boolean>;
  /** Opens a file for reads at any position (Node only; KV-slot graphs that take `inputs_embeds` need it). */
  openFile?(path: string): Promise<RandomAccessFile>;
  /**
   * Asks the JavaScript engine to collect its young generation now (Node: V8's minor GC), where the runtime hands
   * over a fresh buffer per output (see OutputGarbage). Absent where there is no such way.
   */
  collectYoungGarbage?(): void;
}

/** A file read in pieces, synchronously (embedding rows: a few KB per token). */
export interface RandomAccessFile {
  readonly size: number;
  /** Fills `into` from byte `position`; a short read is an error. */
  read(position: number, into: Uint8Array): void;
  close(): void;
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}
