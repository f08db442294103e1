import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, SlmError } from '@slmkit/core';
import { createRandomModel, goldenContinuations } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from './export/graph-builder.js';
import { convertToOnnx, createOnnxBackend, exportOnnxFolder } from './index.js';
import type { OnnxLoadedModel } from './onnx-model.js';
import { encodeOnnxModel, OnnxDataType } from './proto/onnx-codec.js';

const stories = stories260KPaths();
const skipReason = stories ? '' : ` (${SHARED_MISSING_REASON})`;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'slmkit-onnx-folder-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function greedy(path: string, dtype: 'fp32' | 'int8' | 'auto' = 'auto', kvLayout?: 'optimum' | 'slots') {
  const backend = createOnnxBackend({ dtype, kvLayout, cacheDir: join(work, 'cache') });
  const model = await backend.load(path);
  try {
    const golden = goldenContinuations.stories260K;
    const result = await generateText({ model, prompt: golden.prompt, maxTokens: golden.ids.length, temperature: 0 });
    return { tokens: result.tokens, text: result.text, info: model.info };
  } finally {
    await backend.dispose();
  }
}

describe.skipIf(!stories)(`stories260K greedy equals the llama2.c reference${skipReason}`, () => {
  const golden = goldenContinuations.stories260K;

  it('from ../shared/models/stories260K-hf-onnx (an independent Optimum-layout export)', async () => {
    const result = await greedy(stories!.hfOnnx);
    expect(result.tokens).toEqual(golden.ids);
    expect(result.text).toBe(golden.text);
  });

  it('from our exported folder, fp32 and int8', async () => {
    const out = join(work, 'stories260K-onnx');
    const converted = await convertToOnnx({ path: stories!.model, tokenizerPath: stories!.tokenizer }, out);
    expect(converted.from).toBe('llama2c');
    expect(converted.files).toEqual(
      expect.arrayContaining([
        'config.json',
        'tokenizer.json',
        'onnx/model.onnx',
        'onnx/model_quantized.onnx',
        'onnx/model_int8.onnx',
        'onnx/model_slots.onnx',
        'onnx/model_slots_quantized.onnx',
      ]),
    );
    // Default under onnxruntime-node: the KV-slot graph; `optimum`: the graph transformers.js runs.
    const fp32 = await greedy(out, 'fp32');
    expect(fp32.info.details?.file).toMatch(/onnx\/model_slots\.onnx$/);
    expect(fp32.tokens).toEqual(golden.ids);
    expect(fp32.text).toBe(golden.text);
    const optimum = await greedy(out, 'fp32', 'optimum');
    expect(optimum.info.details?.file).toMatch(/onnx\/model\.onnx$/);
    expect(optimum.tokens).toEqual(golden.ids);
    const int8 = await greedy(out, 'int8');
    expect(int8.info.weightType).toBe('int8');
    expect(int8.info.details?.file).toMatch(/onnx\/model_slots_quantized\.onnx$/);
    expect((await greedy(out, 'int8', 'optimum')).tokens).toEqual(int8.tokens);
    // 8-bit weights are not bit-exact: require a long common prefix (it diverges near the end on this tiny model).
    let common = 0;
    while (common < golden.ids.length && int8.tokens[common] === golden.ids[common]) common++;
    expect(common).toBeGreaterThanOrEqual(40);
  });

  it('kvLayout "slots" on a third-party folder (no KV-slot graph) -> NotFoundError naming the file; auto runs Optimum', async () => {
    const backend = createOnnxBackend({ kvLayout: 'slots' });
    const error = await backend.load(stories!.hfOnnx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', field: 'kvLayout' });
    expect(String((error as SlmError).file)).toMatch(/model_slots\.onnx$/);
    const auto = await greedy(stories!.hfOnnx);
    expect(String(auto.info.details?.file)).toMatch(/model\.onnx$/);
  });

  it('from the llama2.c files, exported on the fly into the cache folder', async () => {
    const result = await greedy(stories!.model);
    expect(result.tokens).toEqual(golden.ids);
    expect(String(result.info.details?.file)).toContain(join(work, 'cache'));
  });
});

describe('external data (weights in <file>.onnx_data, memory-mapped by onnxruntime)', () => {
  it('an export with external data loads and matches the in-memory export, fp32 and int8', async () => {
    const data = createRandomModel({ seed: 9 });
    const dir = join(work, 'external');
    const result = await exportOnnxFolder(data, dir, {
      externalData: true,
      variants: ['fp32', 'int8', 'slots', 'slots-int8'],
    });
    expect(result.files).toEqual(expect.arrayContaining(['onnx/model.onnx_data', 'onnx/model_quantized.onnx_data']));
    // The KV-slot graphs point into the fp32 / int8 data files: no weight is written twice.
    expect(result.files.filter((f) => f.startsWith('onnx/model_slots') && f.endsWith('_data'))).toEqual([]);
    const slotGraph = await readFile(join(dir, 'onnx/model_slots.onnx'));
    expect(slotGraph.includes('model.onnx_data')).toBe(true);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].use_external_data_format['model.onnx']).toBe(1);
    expect(Object.keys(config['transformers.js_config'].use_external_data_format)).not.toContain('model_slots.onnx');
    for (const [dtype, kvLayout] of [
      ['fp32', 'optimum'],
      ['int8', 'optimum'],
      ['fp32', 'slots'],
      ['int8', 'slots'],
    ] as const) {
      const backend = createOnnxBackend({ dtype, kvLayout });
      const fromFolder = await backend.load(dir);
      expect(String(fromFolder.info.details?.file).includes('model_slots'), `${dtype} ${kvLayout}`).toBe(
        kvLayout === 'slots',
      );
      const inMemory = await backend.load(data);
      const a = await generateText({
        model: fromFolder,
        prompt: 'the quick',
        maxTokens: 12,
        temperature: 0,
        stopTokens: [],
      });
      const b = await generateText({
        model: inMemory,
        prompt: 'the quick',
        maxTokens: 12,
        temperature: 0,
        stopTokens: [],
      });
      expect(a.tokens).toEqual(b.tokens);
      await backend.dispose();
    }
  });
});

describe('untied KV-slot graphs take inputs_embeds (rows read from the data file, the table never mapped)', () => {
  it('match the in-memory graph (fp32 and int8), embed too; a missing or bad table description is a typed error', async () => {
    // Vocabulary 2048: the int8 table's scales (8 KB) are large enough to go to the data file too.
    const data = createRandomModel({
      seed: 12,
      vocabSize: 2048,
      dim: 64,
      nHeads: 4,
      nKvHeads: 2,
      tiedEmbeddings: false,
    });
    const dir = join(work, 'untied-embeds');
    const result = await exportOnnxFolder(data, dir, { externalData: true });
    expect(result.files).toEqual(
      expect.arrayContaining(['onnx/model_slots.embeddings.json', 'onnx/model_slots_quantized.embeddings.json']),
    );
    for (const dtype of ['fp32', 'int8'] as const) {
      const backend = createOnnxBackend({ dtype });
      try {
        const fromFolder = (await backend.load(dir)) as OnnxLoadedModel;
        expect(fromFolder.session.inputNames).toContain('inputs_embeds');
        expect(fromFolder.session.inputNames).not.toContain('input_ids');
        const inMemory = await backend.load(data);
        const options = { prompt: 'the quick', maxTokens: 12, temperature: 0, stopTokens: [] };
        const a = await generateText({ model: fromFolder, ...options });
        const b = await generateText({ model: inMemory, ...options });
        expect(a.tokens, dtype).toEqual(b.tokens);
        const ids = fromFolder.tokenizer.encode('over the lazy dog');
        const ea = await fromFolder.embed!(ids);
        const eb = await inMemory.embed!(ids);
        let dot = 0;
        for (let i = 0; i < ea.length; i++) dot += ea[i] * eb[i];
        expect(dot, dtype).toBeGreaterThan(0.99999);
      } finally {
        await backend.dispose();
      }
    }
    const sidecar = join(dir, 'onnx/model_slots.embeddings.json');
    const layout = JSON.parse(await readFile(sidecar, 'utf8'));
    await writeFile(sidecar, JSON.stringify({ ...layout, offset: 1e12 }));
    const backend = createOnnxBackend({ dtype: 'fp32' });
    await expect(backend.load(dir)).rejects.toMatchObject({
      code: 'MODEL_FORMAT',
      file: expect.stringMatching(/model\.onnx_data$/),
    });
    await rm(sidecar);
    await expect(backend.load(dir)).rejects.toMatchObject({ code: 'MODEL_FORMAT', file: sidecar });
    await backend.dispose();
  });
});

describe('bad input gives typed errors naming what is missing', () => {
  async function folderWith(name: string, onnx: Uint8Array | undefined, withTokenizer = true): Promise<string> {
    const dir = join(work, name);
    await mkdir(join(dir, 'onnx'), { recursive: true });
    const config = {
      model_type: 'llama',
      vocab_size: 8,
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      max_position_embeddings: 16,
      rms_norm_eps: 1e-5,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    if (withTokenizer && stories) await copyFile(join(stories.hfOnnx, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    if (onnx) await writeFile(join(dir, 'onnx', 'model.onnx'), onnx);
    return dir;
  }

  function graphWithoutCache(): Promise<Uint8Array> {
    const g = new GraphBuilder();
    const ids = g.input('input_ids', OnnxDataType.INT64, ['batch', 'seq']);
    g.output('logits', OnnxDataType.FLOAT, ['batch', 'seq', 8]);
    const table = g.float('embed', [8, 8], new Float32Array(64));
    g.op('Gather', [table, ids], { axis: 0 }, { out: 'logits' });
    return encodeOnnxModel({ irVersion: 8, graph: g.graph('no-cache'), opsetImport: [{ domain: '', version: 17 }] });
  }

  it('a folder with no tokenizer.json -> NotFoundError naming tokenizer.json', async () => {
    const dir = await folderWith('no-tokenizer', await graphWithoutCache(), false);
    const error = await createOnnxBackend()
      .load(dir)
      .catch((e: unknown) => e);
    expect(SlmError.isInstance(error) && error.code).toBe('NOT_FOUND');
    expect(String((error as Error).message)).toContain('tokenizer.json');
  });

  it.skipIf(!stories)(
    `an ONNX graph without the KV-cache inputs -> ModelFormatError naming the input${skipReason}`,
    async () => {
      const dir = await folderWith('no-cache-inputs', await graphWithoutCache());
      const error = await createOnnxBackend()
        .load(dir)
        .catch((e: unknown) => e);
      expect(SlmError.isInstance(error) && error.code).toBe('MODEL_FORMAT');
      expect((error as SlmError).field).toBe('past_key_values.0.key');
      expect((error as Error).message).toContain('past_key_values.0.key');
    },
  );

  it.skipIf(!stories)(`a truncated model.onnx -> ModelFormatError naming the file${skipReason}`, async () => {
    const bytes = await readFile(join(stories!.hfOnnx, 'onnx', 'model.onnx'));
    const dir = await folderWith('truncated', bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await createOnnxBackend()
      .load(dir)
      .catch((e: unknown) => e);
    expect(SlmError.isInstance(error) && error.code).toBe('MODEL_FORMAT');
    expect((error as SlmError).file).toBe(join(dir, 'onnx', 'model.onnx'));
  });

  it('a folder with no ONNX file and no convertible model -> typed error', async () => {
    const dir = await folderWith('no-onnx', undefined);
    const error = await createOnnxBackend()
      .load(dir)
      .catch((e: unknown) => e);
    expect(SlmError.isInstance(error)).toBe(true);
  });
});
