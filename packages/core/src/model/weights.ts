import { ModelFormatError } from '../errors/index.js';
import type { ModelSpec } from './model-spec.js';
import { headDim, kvDim } from './model-spec.js';
import { elementCount, type Tensor, tensorToFloat32 } from './tensor.js';

/**
 * Canonical tensor names of a Llama-family model (the names llama.cpp uses in GGUF). Every format reader maps
 * its own names onto these; every backend reads these. Weight matrices are [out, in].
 */
export const LlamaTensorNames = {
  tokenEmbedding: 'token_embd.weight',
  outputNorm: 'output_norm.weight',
  output: 'output.weight',
  attnNorm: (layer: number) => `blk.${layer}.attn_norm.weight`,
  attnQ: (layer: number) => `blk.${layer}.attn_q.weight`,
  attnK: (layer: number) => `blk.${layer}.attn_k.weight`,
  attnV: (layer: number) => `blk.${layer}.attn_v.weight`,
  attnOutput: (layer: number) => `blk.${layer}.attn_output.weight`,
  ffnNorm: (layer: number) => `blk.${layer}.ffn_norm.weight`,
  /** SwiGLU gate (llama2.c w1, HF gate_proj). */
  ffnGate: (layer: number) => `blk.${layer}.ffn_gate.weight`,
  /** SwiGLU down projection (llama2.c w2, HF down_proj). */
  ffnDown: (layer: number) => `blk.${layer}.ffn_down.weight`,
  /** SwiGLU up projection (llama2.c w3, HF up_proj). */
  ffnUp: (layer: number) => `blk.${layer}.ffn_up.weight`,
} as const;

/** The expected shape of every tensor of a model with this spec, by canonical name. */
export function expectedLlamaShapes(spec: ModelSpec): Map<string, number[]> {
  const n = LlamaTensorNames;
  const shapes = new Map<string, number[]>();
  const kv = kvDim(spec);
  shapes.set(n.tokenEmbedding, [spec.vocabSize, spec.dim]);
  for (let l = 0; l < spec.nLayers; l++) {
    shapes.set(n.attnNorm(l), [spec.dim]);
    shapes.set(n.attnQ(l), [spec.nHeads * headDim(spec), spec.dim]);
    shapes.set(n.attnK(l), [kv, spec.dim]);
    shapes.set(n.attnV(l), [kv, spec.dim]);
    shapes.set(n.attnOutput(l), [spec.dim, spec.nHeads * headDim(spec)]);
    shapes.set(n.ffnNorm(l), [spec.dim]);
    shapes.set(n.ffnGate(l), [spec.ffnDim, spec.dim]);
    shapes.set(n.ffnDown(l), [spec.dim, spec.ffnDim]);
    shapes.set(n.ffnUp(l), [spec.ffnDim, spec.dim]);
  }
  shapes.set(n.outputNorm, [spec.dim]);
  if (!spec.tiedEmbeddings) shapes.set(n.output, [spec.vocabSize, spec.dim]);
  return shapes;
}

/** A set of named tensors. Lookups of missing tensors throw a ModelFormatError naming the tensor. */
export class Weights implements Iterable<Tensor> {
  readonly #tensors = new Map<string, Tensor>();
  readonly source?: string;

  constructor(tensors: Iterable<Tensor>, source?: string) {
    for (const t of tensors) this.#tensors.set(t.name, t);
    this.source = source;
  }

  get size(): number {
    return this.#tensors.size;
  }

  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  get(name: string): Tensor {
    const tensor = this.#tensors.get(name);
    if (!tensor) throw new ModelFormatError('tensor is missing', { field: name, file: this.source });
    return tensor;
  }

  /** Float32 values of a tensor (zero-copy for aligned f32). */
  float32(name: string): Float32Array {
    return tensorToFloat32(this.get(name));
  }

  names(): string[] {
    return [...this.#tensors.keys()];
  }

  [Symbol.iterator](): Iterator<Tensor> {
    return this.#tensors.values();
  }

  /** Total encoded bytes of all tensors. */
  byteSize(): number {
    let total = 0;
    for (const t of this.#tensors.values()) total += t.data.byteLength;
    return total;
  }

  /** Returns new Weights with every tensor passed through `fn`. */
  map(fn: (tensor: Tensor) => Tensor): Weights {
    return new Weights([...this.#tensors.values()].map(fn), this.source);
  }
}

/** Checks that `weights` holds every tensor `spec` needs, with the right shapes. */
export function validateLlamaWeights(spec: ModelSpec, weights: Weights): void {
  for (const [name, shape] of expectedLlamaShapes(spec)) {
    const tensor = weights.get(name);
    const same = tensor.shape.length === shape.length && tensor.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new ModelFormatError(`has shape [${tensor.shape.join(', ')}], the model spec needs [${shape.join(', ')}]`, {
        field: name,
        file: weights.source,
      });
    }
    if (elementCount(tensor.shape) === 0) throw new ModelFormatError('is empty', { field: name, file: weights.source });
  }
}
