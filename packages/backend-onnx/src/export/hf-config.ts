import { hfConfigToSpec, ModelFormatError, type ModelSpec, specToHfConfig, type Tokenizer } from '@slmkit/core';

/**
 * config.json of our exports: core's LlamaConfig plus `slmkit_rope_layout` (our graphs always rotate in the
 * `half` layout, as Hugging Face does).
 */
export function hfConfigFromSpec(spec: ModelSpec, tokenizer: Tokenizer): Record<string, unknown> {
  return {
    ...specToHfConfig(spec, { bosTokenId: tokenizer.special.bos, eosTokenId: tokenizer.special.eos }),
    slmkit_rope_layout: 'half',
  };
}

export function generationConfig(tokenizer: Tokenizer, contextLength: number): Record<string, unknown> {
  return { bos_token_id: tokenizer.special.bos, eos_token_id: tokenizer.special.eos, max_length: contextLength };
}

/**
 * Reads an ONNX folder's `config.json` into a ModelSpec with core's reader. The graph computes attention itself and
 * the spec only describes sizes, so Llama-family variants (mistral, qwen2) and options core's reader refuses for
 * weights it would run (rope_scaling, biases, an explicit head_dim) are accepted here.
 */
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
  const sizesOnly = {
    ...config,
    model_type: 'llama',
    hidden_act: 'silu',
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    head_dim: undefined,
  };
  return { ...hfConfigToSpec(sizesOnly, file, name), provenance: { source: file, format: 'onnx' } };
}

/** Head dimension from config.json (explicit `head_dim` wins over hidden_size / heads). */
export function headDimFromHfConfig(raw: unknown): number | undefined {
  const config = raw as Record<string, unknown>;
  return typeof config.head_dim === 'number' ? config.head_dim : undefined;
}
