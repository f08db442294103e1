import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, NotFoundError } from '../errors/index.js';
import { readLlama2cCheckpoint, readLlama2cTokenizer } from '../formats/llama2c.js';
import { readSafetensors, writeSafetensors } from '../formats/safetensors.js';
import { generateText } from '../generation/generate.js';
import { convertRopeLayout } from '../model/rope-layout.js';
import { tensorToFloat32 } from '../model/tensor.js';
import { goldenContinuations } from '../testing/goldens.js';
import { createRandomModel } from '../testing/random-model.js';
import { createReferenceBackend } from '../testing/reference-backend.js';
import { SHARED_MISSING_REASON, stories260KPaths } from '../testing/shared-data.js';
import { loadHfFolder, writeHfFolder } from './hf-folder.js';
import { loadModelData } from './model-loader.js';

const root = mkdtempSync(join(tmpdir(), 'slmkit-hf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('HF folder writer and loader', () => {
  it('writes HF names in the half layout and reads back the same model', async () => {
    const model = createRandomModel({ tiedEmbeddings: false, seed: 5 });
    const dir = join(root, 'random');
    await writeHfFolder(dir, model);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_type: 'llama',
      num_key_value_heads: 2,
      tie_word_embeddings: false,
      bos_token_id: 1,
      eos_token_id: 2,
    });
    const st = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    expect(st.tensors.map((t) => t.name)).toContain('model.layers.1.self_attn.q_proj.weight');
    expect(st.tensors.map((t) => t.name)).toContain('lm_head.weight');
    const back = await loadHfFolder(dir, { tokenizer: model.tokenizer });
    expect(back.spec.ropeLayout).toBe('half');
    const adjacent = convertRopeLayout(back.spec, back.weights, 'adjacent');
    for (const t of model.weights)
      expect(adjacent.weights.float32(t.name), t.name).toEqual(model.weights.float32(t.name));
  });

  it("stores q/k rows as transformers' convert_llama_weights_to_hf.py permute() does", async () => {
    const model = createRandomModel({ seed: 9 });
    const dir = join(root, 'permute');
    await writeHfFolder(dir, model);
    const st = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    // permute(w, n_heads) = w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)
    const permute = (w: Float32Array, heads: number, rows: number, cols: number) => {
      const half = rows / heads / 2;
      const out = new Float32Array(w.length);
      let o = 0;
      for (let h = 0; h < heads; h++)
        for (let p = 0; p < 2; p++)
          for (let i = 0; i < half; i++) {
            const src = ((h * half + i) * 2 + p) * cols;
            out.set(w.subarray(src, src + cols), o);
            o += cols;
          }
      return out;
    };
    const q = model.weights.float32('blk.1.attn_q.weight');
    const k = model.weights.float32('blk.1.attn_k.weight');
    expect(tensorToFloat32(st.readTensor('model.layers.1.self_attn.q_proj.weight'))).toEqual(permute(q, 4, 32, 32));
    expect(tensorToFloat32(st.readTensor('model.layers.1.self_attn.k_proj.weight'))).toEqual(permute(k, 2, 16, 32));
  });

  it('reads sharded checkpoints through model.safetensors.index.json', async () => {
    const model = createRandomModel({ seed: 6 });
    const dir = join(root, 'sharded');
    await writeHfFolder(dir, model);
    const whole = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    rmSync(join(dir, 'model.safetensors'));
    const names = whole.tensors.map((t) => t.name);
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(join(dir, file), writeSafetensors({ tensors: shard.map((n) => whole.readTensor(n)) }));
      for (const n of shard) weightMap[n] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const back = await loadHfFolder(dir, { tokenizer: model.tokenizer });
    expect(back.weights.size).toBe(model.weights.size);
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { x: '../evil.safetensors' } }),
    );
    await expect(loadHfFolder(dir, { tokenizer: model.tokenizer })).rejects.toThrow(ModelFormatError);
  });

  it('gives typed errors for a missing config and missing tensors', async () => {
    await expect(loadHfFolder(join(root, 'nothing'))).rejects.toThrow(NotFoundError);
    const model = createRandomModel();
    const dir = join(root, 'partial');
    await writeHfFolder(dir, model);
    const whole = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const kept = whole.tensors.filter((t) => t.name !== 'model.norm.weight').map((t) => whole.readTensor(t.name));
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors({ tensors: kept }));
    await expect(loadHfFolder(dir, { tokenizer: model.tokenizer })).rejects.toThrow(/output_norm.weight/);
  });
});

const paths = stories260KPaths();
describe.skipIf(!paths)(`stories260K as an HF folder ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  it('still generates the llama2.c reference text after llama2.c -> HF folder (safetensors, tokenizer.json) -> loadModelData', async () => {
    const { spec, weights } = readLlama2cCheckpoint(new Uint8Array(readFileSync(paths!.model)), paths!.model);
    const tokenizer = readLlama2cTokenizer(new Uint8Array(readFileSync(paths!.tokenizer)), { vocabSize: 512 });
    const dir = join(root, 'stories');
    await writeHfFolder(dir, { spec, weights, tokenizer });
    // through the public loader: config.json, model.safetensors and the tokenizer.json we wrote
    const data = await loadModelData(dir);
    expect(data.spec.ropeLayout).toBe('half');
    expect(data.tokenizer.encode('Once upon a time')).toEqual(tokenizer.encode('Once upon a time'));
    const backend = createReferenceBackend();
    const model = await backend.load(data);
    try {
      const golden = goldenContinuations.stories260K;
      const result = await generateText({ model, prompt: golden.prompt, maxTokens: golden.ids.length, temperature: 0 });
      expect(result.tokens).toEqual(golden.ids);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  });
});
