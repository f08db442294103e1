import { InvalidArgumentError } from '../errors/index.js';

/**
 * How RoPE pairs the dimensions of each attention head.
 * - `adjacent`: dimension 2i rotates with 2i+1 (Meta's original Llama code, llama2.c, GGUF `llama`).
 * - `half`: dimension i rotates with i + headDim/2 (Hugging Face `rotate_half`, GPT-NeoX).
 * The same checkpoint stored in the two layouts differs by a permutation of the rows of wq and wk.
 */
export type RopeLayout = 'adjacent' | 'half';

/** Where a model came from, for reports and `slm inspect`. */
export interface ModelProvenance {
  /** Path or URL the model was read from. */
  source?: string;
  /** The on-disk format it was read from. */
  format?: ModelFormatName;
  /** Free text: author, license, recipe. */
  description?: string;
}

export type ModelFormatName = 'gguf' | 'llama2c' | 'safetensors' | 'onnx' | 'memory';

/** Hyper-parameters of a Llama-family decoder (pre-norm, RMSNorm, RoPE, GQA, SwiGLU). */
export interface ModelSpec {
  architecture: 'llama';
  name: string;
  vocabSize: number;
  /** Model (embedding) width. */
  dim: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads; < nHeads means grouped-query attention. */
  nKvHeads: number;
  /** Hidden width of the SwiGLU feed-forward block. */
  ffnDim: number;
  ropeTheta: number;
  ropeLayout: RopeLayout;
  normEps: number;
  /** Context length the model was trained for. */
  contextLength: number;
  /** The output classifier shares the token embedding matrix. */
  tiedEmbeddings: boolean;
  provenance?: ModelProvenance;
}

export const DEFAULT_ROPE_THETA = 10_000;
export const DEFAULT_NORM_EPS = 1e-5;

export function headDim(spec: ModelSpec): number {
  return spec.dim / spec.nHeads;
}

export function kvDim(spec: ModelSpec): number {
  return (spec.dim / spec.nHeads) * spec.nKvHeads;
}

/** Number of parameters, counting a tied classifier once. */
export function parameterCount(spec: ModelSpec): number {
  const kv = kvDim(spec);
  const perLayer = 2 * spec.dim + 2 * spec.dim * spec.dim + 2 * spec.dim * kv + 3 * spec.dim * spec.ffnDim;
  const embeddings = spec.vocabSize * spec.dim * (spec.tiedEmbeddings ? 1 : 2);
  return embeddings + spec.nLayers * perLayer + spec.dim;
}

function requirePositiveInteger(spec: ModelSpec, field: keyof ModelSpec, max: number): void {
  const value = spec[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    throw new InvalidArgumentError(`must be an integer in 1..${max}, got ${String(value)}`, {
      field: `ModelSpec.${field}`,
      value,
    });
  }
}

/** Checks that a spec describes a buildable model; throws InvalidArgumentError naming the bad field. */
export function validateModelSpec(spec: ModelSpec): ModelSpec {
  if (spec.architecture !== 'llama') {
    throw new InvalidArgumentError(`unsupported architecture "${String(spec.architecture)}"`, {
      field: 'ModelSpec.architecture',
      value: spec.architecture,
    });
  }
  requirePositiveInteger(spec, 'vocabSize', 4_000_000);
  requirePositiveInteger(spec, 'dim', 65_536);
  requirePositiveInteger(spec, 'nLayers', 512);
  requirePositiveInteger(spec, 'nHeads', 1024);
  requirePositiveInteger(spec, 'nKvHeads', 1024);
  requirePositiveInteger(spec, 'ffnDim', 1_048_576);
  requirePositiveInteger(spec, 'contextLength', 16_777_216);
  if (spec.dim % spec.nHeads !== 0) {
    throw new InvalidArgumentError(`dim ${spec.dim} is not divisible by nHeads ${spec.nHeads}`, {
      field: 'ModelSpec.nHeads',
      value: spec.nHeads,
    });
  }
  if (spec.nHeads % spec.nKvHeads !== 0) {
    throw new InvalidArgumentError(`nHeads ${spec.nHeads} is not a multiple of nKvHeads ${spec.nKvHeads}`, {
      field: 'ModelSpec.nKvHeads',
      value: spec.nKvHeads,
    });
  }
  if ((spec.dim / spec.nHeads) % 2 !== 0) {
    throw new InvalidArgumentError('head dimension must be even for RoPE', { field: 'ModelSpec.nHeads' });
  }
  if (!(spec.ropeTheta > 0) || !(spec.normEps > 0)) {
    throw new InvalidArgumentError('ropeTheta and normEps must be positive', { field: 'ModelSpec.ropeTheta' });
  }
  if (spec.ropeLayout !== 'adjacent' && spec.ropeLayout !== 'half') {
    throw new InvalidArgumentError(`ropeLayout must be "adjacent" or "half"`, {
      field: 'ModelSpec.ropeLayout',
      value: spec.ropeLayout,
    });
  }
  return spec;
}
