import { SeededRandom } from '../generation/random.js';
import type { ModelData } from '../model/backend.js';
import type { ModelSpec, RopeLayout } from '../model/model-spec.js';
import { validateModelSpec } from '../model/model-spec.js';
import { float32Tensor } from '../model/tensor.js';
import { expectedLlamaShapes, LlamaTensorNames as N, Weights } from '../model/weights.js';
import { SpmTokenizer } from '../tokenizer/spm-tokenizer.js';
import { byteTokenText, TokenType } from '../tokenizer/token-type.js';

export interface RandomModelOptions {
  seed?: number;
  name?: string;
  vocabSize?: number;
  dim?: number;
  nLayers?: number;
  nHeads?: number;
  nKvHeads?: number;
  ffnDim?: number;
  contextLength?: number;
  ropeLayout?: RopeLayout;
  tiedEmbeddings?: boolean;
}

/** Size presets for sweeps and fixtures (parameter counts are approximate). */
export const RANDOM_MODEL_PRESETS = {
  /** ~0.1M params: the conformance fixture. */
  tiny: { vocabSize: 300, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 96, contextLength: 128 },
  /** ~24M params (24.4M), 32k vocabulary, untied classifier. */
  '24m': {
    vocabSize: 32_000,
    dim: 288,
    nLayers: 6,
    nHeads: 6,
    nKvHeads: 6,
    ffnDim: 768,
    contextLength: 256,
    tiedEmbeddings: false,
  },
  /** ~134M params (134.6M), 32k vocabulary, untied classifier. */
  '134m': {
    vocabSize: 32_000,
    dim: 768,
    nLayers: 12,
    nHeads: 12,
    nKvHeads: 12,
    ffnDim: 2048,
    contextLength: 512,
    tiedEmbeddings: false,
  },
} as const satisfies Record<string, RandomModelOptions>;

const LETTERS = 'etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ.,!?\'"-:;0123456789';

/**
 * A deterministic SentencePiece-style vocabulary of any size >= 259: <unk>, <s>, </s>, 256 byte tokens, then
 * characters, `▁x` pieces and longer letter combinations, scored so shorter pieces merge first.
 */
export function syntheticSpmTokenizer(vocabSize: number): SpmTokenizer {
  const pieces = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let b = 0; b < 256; b++) {
    pieces.push(byteTokenText(b));
    types.push(TokenType.byte);
  }
  const seen = new Set(pieces);
  const add = (piece: string) => {
    if (pieces.length >= vocabSize || seen.has(piece)) return;
    seen.add(piece);
    pieces.push(piece);
    types.push(TokenType.normal);
  };
  add('\u2581');
  for (const c of LETTERS) add(c);
  for (const c of LETTERS) add(`\u2581${c}`);
  const lower = 'etaoinshrdlcumwfgypbvkjxqz';
  outer: for (let length = 2; pieces.length < vocabSize; length++) {
    const total = lower.length ** length;
    for (let n = 0; n < total; n++) {
      let s = '';
      let k = n;
      for (let i = 0; i < length; i++) {
        s += lower[k % lower.length];
        k = Math.floor(k / lower.length);
      }
      add(s);
      add(`\u2581${s}`);
      if (pieces.length >= vocabSize) break outer;
    }
  }
  const scores = pieces.map((_, i) => (i < 259 ? 0 : -i));
  return new SpmTokenizer({
    pieces: pieces.slice(0, vocabSize),
    scores: scores.slice(0, vocabSize),
    types: types.slice(0, vocabSize),
    special: { unk: 0, bos: 1, eos: 2 },
    addBos: true,
    addEos: false,
  });
}

/**
 * A Llama-family model with random weights (fixed seed) and a synthetic tokenizer: fixtures and size sweeps made
 * by code instead of binary blobs. Weights have variance 1/fan_in so logits are well spread (greedy output is
 * stable against rounding differences between runtimes).
 */
export function createRandomModel(options: RandomModelOptions = {}): ModelData {
  const p = { ...RANDOM_MODEL_PRESETS.tiny, ...options };
  const spec: ModelSpec = validateModelSpec({
    architecture: 'llama',
    name: options.name ?? `random-${p.vocabSize}v-${p.dim}d-${p.nLayers}l`,
    vocabSize: p.vocabSize,
    dim: p.dim,
    nLayers: p.nLayers,
    nHeads: p.nHeads,
    nKvHeads: p.nKvHeads,
    ffnDim: p.ffnDim,
    ropeTheta: 10_000,
    ropeLayout: options.ropeLayout ?? 'adjacent',
    normEps: 1e-5,
    contextLength: p.contextLength,
    tiedEmbeddings: p.tiedEmbeddings ?? true,
    provenance: { format: 'memory', description: `random weights, seed ${options.seed ?? 1}` },
  });
  const random = new SeededRandom(options.seed ?? 1);
  const tensors = [];
  for (const [name, shape] of expectedLlamaShapes(spec)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    if (shape.length === 1) {
      for (let i = 0; i < count; i++) values[i] = 0.8 + 0.4 * random.next();
    } else {
      const fanIn = name === N.tokenEmbedding ? 1 : shape[1];
      const bound = Math.sqrt(3 / fanIn);
      for (let i = 0; i < count; i++) values[i] = (2 * random.next() - 1) * bound;
    }
    tensors.push(float32Tensor(name, shape, values));
  }
  return { spec, weights: new Weights(tensors), tokenizer: syntheticSpmTokenizer(spec.vocabSize) };
}
