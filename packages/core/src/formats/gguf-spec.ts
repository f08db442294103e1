import { UnsupportedFeatureError } from '../errors/index.js';
import { DEFAULT_NORM_EPS, DEFAULT_ROPE_THETA, headDim, type ModelSpec } from '../model/model-spec.js';
import { LlamaTensorNames } from '../model/weights.js';
import { GgufMetadataReader } from './gguf-metadata.js';
import { type GgufTensorInfo, type GgufValue, GgufValueType } from './gguf-types.js';

/** GGUF `general.architecture` values slmkit maps onto its Llama ModelSpec. */
export const GGUF_LLAMA_ARCHITECTURES = ['llama'] as const;

/**
 * Reads a ModelSpec from the `llama.*` keys of a GGUF file. Missing optional keys take llama.cpp's defaults
 * (rope freq base 10000, rms eps 1e-5); the vocabulary size falls back to the token embedding's rows.
 */
export function ggufSpecFromMetadata(
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly Pick<GgufTensorInfo, 'name' | 'shape'>[],
  file?: string,
): ModelSpec {
  const m = new GgufMetadataReader(metadata, file);
  const arch = m.string('general.architecture');
  if (arch !== 'llama') {
    throw new UnsupportedFeatureError(`architecture "${arch}" is not supported (slmkit maps llama)`, {
      file,
      field: 'general.architecture',
      value: arch,
    });
  }
  const embedding = tensors.find((t) => t.name === LlamaTensorNames.tokenEmbedding);
  const tokens = metadata.get('tokenizer.ggml.tokens');
  const vocabFallback =
    embedding?.shape[0] ?? (tokens?.type === GgufValueType.array ? (tokens.value as unknown[]).length : undefined);
  const nHeads = m.integer('llama.attention.head_count');
  const spec: ModelSpec = {
    architecture: 'llama',
    name: m.string(
      'general.name',
      file
        ?.split(/[\\/]/)
        .pop()
        ?.replace(/\.gguf$/i, '') ?? 'gguf',
    ),
    vocabSize:
      vocabFallback === undefined ? m.integer('llama.vocab_size') : m.integer('llama.vocab_size', vocabFallback),
    dim: m.integer('llama.embedding_length'),
    nLayers: m.integer('llama.block_count'),
    nHeads,
    nKvHeads: m.integer('llama.attention.head_count_kv', nHeads),
    ffnDim: m.integer('llama.feed_forward_length'),
    ropeTheta: m.float('llama.rope.freq_base', DEFAULT_ROPE_THETA),
    ropeLayout: 'adjacent',
    normEps: m.float('llama.attention.layer_norm_rms_epsilon', DEFAULT_NORM_EPS),
    contextLength: m.integer('llama.context_length'),
    tiedEmbeddings: !tensors.some((t) => t.name === LlamaTensorNames.output),
    provenance: { format: 'gguf', source: file },
  };
  if (spec.nHeads > 0 && spec.dim % spec.nHeads === 0) {
    const ropeDims = m.integer('llama.rope.dimension_count', headDim(spec));
    if (ropeDims !== headDim(spec)) {
      throw new UnsupportedFeatureError(
        `partial RoPE (${ropeDims} of ${headDim(spec)} head dimensions) is not supported`,
        {
          file,
          field: 'llama.rope.dimension_count',
          value: ropeDims,
        },
      );
    }
  }
  return spec;
}
