import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, NotFoundError } from '../errors/index.js';
import { modelDataToGguf } from '../formats/gguf-llama.js';
import { writeGguf } from '../formats/gguf-writer.js';
import { parameterCount } from '../model/model-spec.js';
import { createRandomModel } from '../testing/random-model.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { describeModel } from './describe-model.js';
import { writeHfFolder } from './hf-folder.js';
import { loadModelData } from './model-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'slmkit-describe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('describeModel and loadModelData', () => {
  it('describes a GGUF from its header and loads it through loadModelData', async () => {
    const model = createRandomModel({ tiedEmbeddings: true });
    const path = join(dir, 'random.gguf');
    const bytes = writeGguf(modelDataToGguf(model, { quantize: 'q8_0', name: 'tiny' }));
    writeFileSync(path, bytes);
    const d = await describeModel(path);
    expect(d).toMatchObject({ format: 'gguf', architecture: 'llama', name: 'tiny', fileBytes: bytes.length });
    expect(d.hyperParameters).toMatchObject({ nLayers: 2, nHeads: 4, nKvHeads: 2, dim: 32, vocabSize: 300 });
    expect(d.tokenizer).toEqual({ kind: 'spm', vocabSize: 300, bos: 1, eos: 2, chatTemplate: false });
    expect(d.parameters).toBe(parameterCount(model.spec));
    expect(d.tensors.find((t) => t.name === 'blk.0.attn_q.weight')).toEqual({
      name: 'blk.0.attn_q.weight',
      shape: [32, 32],
      dtype: 'q8_0',
      bytes: 32 * 34,
    });
    expect(d.metadata?.['llama.block_count']).toBe(2);
    expect(d.metadata?.['tokenizer.ggml.tokens']).toBe('[type 8 x 300]');
    const loaded = await loadModelData(path);
    expect(loaded.spec.name).toBe('tiny');
    expect(loaded.tokenizer.encode('hello world')).toEqual(model.tokenizer.encode('hello world'));
  });

  it('describes an HF safetensors folder', async () => {
    const model = createRandomModel({ tiedEmbeddings: false });
    const folder = join(dir, 'hf');
    await writeHfFolder(folder, model);
    const d = await describeModel(folder);
    expect(d).toMatchObject({ format: 'safetensors-folder', architecture: 'llama' });
    expect(d.hyperParameters.ropeLayout).toBe('half');
    expect(d.parameters).toBe(parameterCount(model.spec));
    expect(d.tensors.find((t) => t.name === 'lm_head.weight')).toMatchObject({ shape: [300, 32], dtype: 'F32' });
  });

  it('gives typed errors', async () => {
    await expect(describeModel(join(dir, 'none.gguf'))).rejects.toThrow(NotFoundError);
    writeFileSync(join(dir, 'cut.gguf'), writeGguf(modelDataToGguf(createRandomModel())).subarray(0, 5000));
    await expect(describeModel(join(dir, 'cut.gguf'))).rejects.toThrow(ModelFormatError);
    writeFileSync(join(dir, 'short.bin'), new Uint8Array(10));
    await expect(describeModel(join(dir, 'short.bin'))).rejects.toThrow(ModelFormatError);
  });
});

const paths = stories260KPaths();
describe.skipIf(!paths)(`describeModel on stories260K ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  it('describes the llama2.c checkpoint from its 28-byte header', async () => {
    const d = await describeModel(paths!.model);
    expect(d).toMatchObject({ format: 'llama2c', fileBytes: 1_056_540, tokenizer: { kind: 'spm', vocabSize: 512 } });
    expect(d.hyperParameters).toMatchObject({
      dim: 64,
      ffnDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      contextLength: 512,
    });
    // 260K parameters, as the model's name says
    expect(d.parameters).toBeGreaterThan(250_000);
    expect(d.parameters).toBeLessThan(270_000);
  });
});

const vocab = sharedPath('vocab', 'ggml-vocab-gpt-2.gguf');
describe.skipIf(!vocab)(`describeModel on a non-llama GGUF ${vocab ? '' : SHARED_MISSING_REASON}`, () => {
  it("shows the architecture's own keys and the tokenizer of llama.cpp's gpt-2 vocab file", async () => {
    const d = await describeModel(vocab!);
    expect(d).toMatchObject({ format: 'gguf', architecture: 'gpt2', tensors: [], parameters: 0 });
    expect(d.tokenizer).toMatchObject({ kind: 'bpe', vocabSize: 50257, bos: 50256, eos: 50256 });
    expect(d.hyperParameters).toMatchObject({ block_count: 12, embedding_length: 768 });
  });
});
