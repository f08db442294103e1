import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import type { ModelSpec } from '../model/model-spec.js';
import { headDim } from '../model/model-spec.js';
import { LlamaTensorNames } from '../model/weights.js';

/**
 * Hugging Face `config.json` (LlamaConfig) <-> ModelSpec, and HF tensor names <-> canonical (GGUF) names.
 *
 * RoPE layout: HF checkpoints store the q/k projection rows in the `half` (rotate_half) layout. Reading sets
 * `spec.ropeLayout = 'half'` and keeps the weights as stored (backends honour the layout; `convertRopeLayout`
 * rewrites them when a runtime needs `adjacent`). Writing converts to `half` first.
 */

/** HF LlamaConfig defaults (transformers' LlamaConfig.__init__). */
export const HF_LLAMA_DEFAULTS = {
  rms_norm_eps: 1e-6,
  rope_theta: 10_000,
  max_position_embeddings: 2048,
  tie_word_embeddings: false,
  hidden_act: 'silu',
} as const;

function fail(message: string, file: string | undefined, field: string, value?: unknown): never {
  throw new ModelFormatError(message, { file, field, value });
}

function int(config: Record<string, unknown>, key: string, file: string | undefined, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    fail(`must be a positive integer, got ${JSON.stringify(v)}`, file, key, v);
  return v;
}

function num(config: Record<string, unknown>, key: string, file: string | undefined, fallback: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    fail(`must be a positive number, got ${JSON.stringify(v)}`, file, key, v);
  return v;
}

/** Reads a LlamaConfig (parsed config.json) into a ModelSpec with `ropeLayout: 'half'`. */
export function hfConfigToSpec(config: unknown, file?: string, name?: string): ModelSpec {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    fail('config is not a JSON object', file, 'config');
  const c = config as Record<string, unknown>;
  if (c.model_type !== 'llama') {
    throw new UnsupportedFeatureError(`model_type ${JSON.stringify(c.model_type)} is not supported (llama is)`, {
      file,
      field: 'model_type',
      value: c.model_type,
    });
  }
  if ((c.hidden_act ?? HF_LLAMA_DEFAULTS.hidden_act) !== 'silu') {
    throw new UnsupportedFeatureError(`hidden_act ${JSON.stringify(c.hidden_act)} is not supported (silu is)`, {
      file,
      field: 'hidden_act',
    });
  }
  for (const key of ['rope_scaling', 'attention_bias', 'mlp_bias'] as const) {
    if (c[key] !== undefined && c[key] !== null && c[key] !== false) {
      throw new UnsupportedFeatureError(`${key} is not supported`, { file, field: key, value: c[key] });
    }
  }
  const nHeads = int(c, 'num_attention_heads', file);
  const spec: ModelSpec = {
    architecture: 'llama',
    name: name ?? (typeof c._name_or_path === 'string' && c._name_or_path ? c._name_or_path : 'hf-llama'),
    vocabSize: int(c, 'vocab_size', file),
    dim: int(c, 'hidden_size', file),
    nLayers: int(c, 'num_hidden_layers', file),
    nHeads,
    nKvHeads: int(c, 'num_key_value_heads', file, nHeads),
    ffnDim: int(c, 'intermediate_size', file),
    ropeTheta: num(c, 'rope_theta', file, HF_LLAMA_DEFAULTS.rope_theta),
    ropeLayout: 'half',
    normEps: num(c, 'rms_norm_eps', file, HF_LLAMA_DEFAULTS.rms_norm_eps),
    contextLength: int(c, 'max_position_embeddings', file, HF_LLAMA_DEFAULTS.max_position_embeddings),
    tiedEmbeddings: (c.tie_word_embeddings ?? HF_LLAMA_DEFAULTS.tie_word_embeddings) === true,
    provenance: { format: 'safetensors', source: file },
  };
  if (spec.dim % spec.nHeads !== 0)
    fail(`${spec.nHeads} heads do not divide hidden_size ${spec.dim}`, file, 'num_attention_heads');
  if (c.head_dim !== undefined && c.head_dim !== null && c.head_dim !== headDim(spec)) {
    throw new UnsupportedFeatureError(`head_dim ${String(c.head_dim)} differs from hidden_size / heads`, {
      file,
      field: 'head_dim',
    });
  }
  return spec;
}

export interface HfConfigExtras {
  bosTokenId?: number;
  eosTokenId?: number;
  torchDtype?: 'float32' | 'float16';
}

/** A LlamaConfig object (for config.json) describing `spec`. */
export function specToHfConfig(spec: ModelSpec, extras: HfConfigExtras = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: spec.vocabSize,
    hidden_size: spec.dim,
    intermediate_size: spec.ffnDim,
    num_hidden_layers: spec.nLayers,
    num_attention_heads: spec.nHeads,
    num_key_value_heads: spec.nKvHeads,
    head_dim: headDim(spec),
    hidden_act: 'silu',
    max_position_embeddings: spec.contextLength,
    rms_norm_eps: spec.normEps,
    rope_theta: spec.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: spec.tiedEmbeddings,
    bos_token_id: extras.bosTokenId ?? null,
    eos_token_id: extras.eosTokenId ?? null,
    torch_dtype: extras.torchDtype ?? 'float32',
    use_cache: true,
  };
}

const HF_LAYER = /^model\.layers\.(\d+)\.(.+)$/;
const HF_LAYER_PARTS: Record<string, (layer: number) => string> = {
  'input_layernorm.weight': LlamaTensorNames.attnNorm,
  'self_attn.q_proj.weight': LlamaTensorNames.attnQ,
  'self_attn.k_proj.weight': LlamaTensorNames.attnK,
  'self_attn.v_proj.weight': LlamaTensorNames.attnV,
  'self_attn.o_proj.weight': LlamaTensorNames.attnOutput,
  'post_attention_layernorm.weight': LlamaTensorNames.ffnNorm,
  'mlp.gate_proj.weight': LlamaTensorNames.ffnGate,
  'mlp.down_proj.weight': LlamaTensorNames.ffnDown,
  'mlp.up_proj.weight': LlamaTensorNames.ffnUp,
};
const HF_GLOBAL: Record<string, string> = {
  'model.embed_tokens.weight': LlamaTensorNames.tokenEmbedding,
  'model.norm.weight': LlamaTensorNames.outputNorm,
  'lm_head.weight': LlamaTensorNames.output,
};
const CANONICAL_LAYER = /^blk\.(\d+)\.(.+)$/;

/** The canonical name of an HF Llama tensor, or undefined for tensors slmkit does not use (e.g. rotary inv_freq). */
export function hfToCanonicalName(name: string): string | undefined {
  if (HF_GLOBAL[name]) return HF_GLOBAL[name];
  const m = HF_LAYER.exec(name);
  if (!m) return undefined;
  const part = HF_LAYER_PARTS[m[2]];
  return part ? part(Number(m[1])) : undefined;
}

/** The HF name of a canonical tensor name; throws for names with no HF counterpart. */
export function canonicalToHfName(name: string): string {
  for (const [hf, canonical] of Object.entries(HF_GLOBAL)) if (canonical === name) return hf;
  const m = CANONICAL_LAYER.exec(name);
  if (m) {
    const layer = Number(m[1]);
    for (const [hf, toCanonical] of Object.entries(HF_LAYER_PARTS))
      if (toCanonical(layer) === name) return `model.layers.${layer}.${hf}`;
  }
  throw new UnsupportedFeatureError('tensor has no Hugging Face Llama name', { field: name });
}
