import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { expectedLlamaShapes } from '../model/weights.js';
import { SHARED_MISSING_REASON, stories260KPaths } from '../testing/shared-data.js';
import { canonicalToHfName, hfConfigToSpec, hfToCanonicalName, specToHfConfig } from './hf-config.js';
import { readLlama2cCheckpoint } from './llama2c.js';

describe('HF config.json <-> ModelSpec', () => {
  it('maps names both ways for every tensor of a model', () => {
    expect(hfToCanonicalName('model.layers.3.self_attn.q_proj.weight')).toBe('blk.3.attn_q.weight');
    expect(hfToCanonicalName('model.layers.0.mlp.gate_proj.weight')).toBe('blk.0.ffn_gate.weight');
    expect(hfToCanonicalName('model.layers.0.post_attention_layernorm.weight')).toBe('blk.0.ffn_norm.weight');
    expect(hfToCanonicalName('lm_head.weight')).toBe('output.weight');
    expect(hfToCanonicalName('model.layers.0.self_attn.rotary_emb.inv_freq')).toBeUndefined();
    const spec = hfConfigToSpec({
      model_type: 'llama',
      vocab_size: 10,
      hidden_size: 8,
      num_hidden_layers: 12,
      num_attention_heads: 2,
      intermediate_size: 16,
    });
    for (const name of expectedLlamaShapes({ ...spec, tiedEmbeddings: false }).keys()) {
      expect(hfToCanonicalName(canonicalToHfName(name))).toBe(name);
    }
    expect(() => canonicalToHfName('rope_freqs.weight')).toThrow(UnsupportedFeatureError);
  });

  it('applies LlamaConfig defaults and round-trips a spec', () => {
    const spec = hfConfigToSpec(
      {
        model_type: 'llama',
        vocab_size: 10,
        hidden_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 16,
      },
      'c.json',
      'm',
    );
    expect(spec).toMatchObject({
      nKvHeads: 2,
      ropeTheta: 10_000,
      normEps: 1e-6,
      contextLength: 2048,
      tiedEmbeddings: false,
      ropeLayout: 'half',
    });
    expect(hfConfigToSpec(specToHfConfig(spec), 'c.json', 'm')).toEqual(spec);
  });

  it('rejects configs it cannot honour', () => {
    const base = {
      model_type: 'llama',
      vocab_size: 10,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 16,
    };
    expect(() => hfConfigToSpec({ ...base, model_type: 'gpt2' })).toThrow(UnsupportedFeatureError);
    expect(() => hfConfigToSpec({ ...base, rope_scaling: { type: 'linear', factor: 2 } })).toThrow(/rope_scaling/);
    expect(() => hfConfigToSpec({ ...base, hidden_size: -8 })).toThrow(ModelFormatError);
    expect(() => hfConfigToSpec({ ...base, num_attention_heads: 3 })).toThrow(/do not divide/);
    expect(() => hfConfigToSpec([])).toThrow(ModelFormatError);
  });
});

const paths = stories260KPaths();
describe.skipIf(!paths)(`HF config of stories260K ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  it('describes the same model as the llama2.c checkpoint (config.json written by an independent exporter)', () => {
    const config = JSON.parse(readFileSync(join(paths!.hfOnnx, 'config.json'), 'utf8'));
    const fromHf = hfConfigToSpec(config, 'config.json', 'stories260K');
    const { spec } = readLlama2cCheckpoint(new Uint8Array(readFileSync(paths!.model)), 'stories260K.bin');
    const { provenance: _a, ropeLayout: _b, ...hf } = fromHf;
    const { provenance: _c, ropeLayout: _d, ...l2c } = spec;
    expect(hf).toEqual(l2c);
  });
});
