import { ModelFormatError, type ModelSpec, type Tokenizer } from '@slmkit/core';

/** The `config.json` fields of a Hugging Face Llama checkpoint that slmkit writes and reads. */
export interface HfLlamaConfig {
  architectures?: string[];
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta?: number;
  tie_word_embeddings?: boolean;
  bos_token_id?: number;
  eos_token_id?: number | number[];
  hidden_act?: string;
  torch_dtype?: string;
  use_cache?: boolean;
  /** slmkit extension: the RoPE layout of the exported graph (always `half` for our exports). */
  slmkit_rope_layout?: string;
}

export function hfConfigFromSpec(spec: ModelSpec, tokenizer: Tokenizer): HfLlamaConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: spec.vocabSize,
    hidden_size: spec.dim,
    intermediate_size: spec.ffnDim,
    num_hidden_layers: spec.nLayers,
    num_attention_heads: spec.nHeads,
    num_key_value_heads: spec.nKvHeads,
    head_dim: spec.dim / spec.nHeads,
    max_position_embeddings: spec.contextLength,
    rms_norm_eps: spec.normEps,
    rope_theta: spec.ropeTheta,
    tie_word_embeddings: spec.tiedEmbeddings,
    bos_token_id: tokenizer.special.bos,
    eos_token_id: tokenizer.special.eos,
    hidden_act: 'silu',
    torch_dtype: 'float32',
    use_cache: true,
    slmkit_rope_layout: 'half',
  };
}

export function generationConfig(tokenizer: Tokenizer, contextLength: number): Record<string, unknown> {
  return { bos_token_id: tokenizer.special.bos, eos_token_id: tokenizer.special.eos, max_length: contextLength };
}

function requireNumber(config: Record<string, unknown>, field: string, file: string): number {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelFormatError(`config.json needs a number in "${field}", got ${JSON.stringify(value)}`, {
      file,
      field,
    });
  }
  return value;
}

/** Reads a Llama `config.json` into a ModelSpec; throws ModelFormatError naming the missing field. */
export function specFromHfConfig(raw: unknown, file: string, name: string): ModelSpec {
  if (typeof raw !== 'object' || raw === null) throw new ModelFormatError('config.json is not a JSON object', { file });
  const config = raw as Record<string, unknown>;
  const modelType = config.model_type;
  if (modelType !== 'llama' && modelType !== 'mistral' && modelType !== 'qwen2') {
    throw new ModelFormatError(`model_type ${JSON.stringify(modelType)} is not a Llama-family decoder`, {
      file,
      field: 'model_type',
    });
  }
  const dim = requireNumber(config, 'hidden_size', file);
  const nHeads = requireNumber(config, 'num_attention_heads', file);
  return {
    architecture: 'llama',
    name,
    vocabSize: requireNumber(config, 'vocab_size', file),
    dim,
    nLayers: requireNumber(config, 'num_hidden_layers', file),
    nHeads,
    nKvHeads: typeof config.num_key_value_heads === 'number' ? config.num_key_value_heads : nHeads,
    ffnDim: requireNumber(config, 'intermediate_size', file),
    ropeTheta: typeof config.rope_theta === 'number' ? config.rope_theta : 10_000,
    ropeLayout: 'half',
    normEps: typeof config.rms_norm_eps === 'number' ? config.rms_norm_eps : 1e-6,
    contextLength: typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : 2048,
    tiedEmbeddings: config.tie_word_embeddings === true,
    provenance: { source: file, format: 'onnx' },
  };
}

/** Head dimension from config.json (explicit `head_dim` wins over hidden_size / heads). */
export function headDimFromHfConfig(raw: unknown): number | undefined {
  const config = raw as Record<string, unknown>;
  return typeof config.head_dim === 'number' ? config.head_dim : undefined;
}
