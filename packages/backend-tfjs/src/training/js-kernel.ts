import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';

/**
 * The part of tfjs-backend-wasm's `BackendWasm` used here: tensors live in the wasm heap, so JS can read and write
 * them in place. (Its `Slice` kernel copies the whole input out of the heap once per slice, which makes slicing a
 * tensor into many pieces cost pieces x size.)
 */
interface WasmHeap {
  typedArrayFromHeap(t: TF.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): TF.TensorInfo;
}

/** The wasm backend's heap access when wasm is the active backend, else undefined. */
export function wasmHeap(tf: Tf): WasmHeap | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  return typeof backend.typedArrayFromHeap === 'function' && typeof backend.makeOutput === 'function'
    ? (backend as WasmHeap)
    : undefined;
}

/**
 * A new float32 tensor of `shape` computed in JS: `kernel(inputs, out)` gets the inputs' values and must write every
 * element of `out`. On wasm both are views of the heap (no copies; the kernel must not create tensors); elsewhere
 * the inputs are read with `dataSync` and `out` is uploaded afterwards. Not differentiable by itself.
 */
export function jsKernel(
  tf: Tf,
  inputs: readonly TF.Tensor[],
  shape: number[],
  kernel: (inputs: Float32Array[], out: Float32Array) => void,
): TF.Tensor {
  for (const t of inputs)
    if (t.dtype !== 'float32') throw new Error(`jsKernel: inputs must be float32, got ${t.dtype} [${t.shape}]`);
  const heap = wasmHeap(tf);
  if (heap) {
    const out = tf.engine().makeTensorFromTensorInfo(heap.makeOutput(shape, 'float32'));
    // views are taken after the allocation: a heap growth detaches older ones
    kernel(
      inputs.map((t) => heap.typedArrayFromHeap(t)),
      heap.typedArrayFromHeap(out),
    );
    return out;
  }
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  kernel(
    inputs.map((t) => t.dataSync() as Float32Array),
    out,
  );
  return tf.tensor(out, shape);
}
