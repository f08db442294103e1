import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { llama2cHeaderToSpec, parameterCount, readLlama2cHeader } from '@slmkit/core';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoServer, type DemoServer } from './demo-server.js';
import { describeDeviceModel, parametersFromHfConfig } from './device-models.js';

const stories = stories260KPaths();

/** A fake HF ONNX folder: the server only lists and serves its files, it never parses the ONNX bytes. */
async function makeOnnxFolder(dir: string): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const config = {
    model_type: 'llama',
    vocab_size: 100,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    tie_word_embeddings: false,
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await writeFile(join(dir, 'tokenizer.json'), '{}');
  await writeFile(join(dir, 'secret.txt'), 'not for the page');
  await writeFile(join(dir, 'onnx', 'model.onnx'), new Uint8Array(10));
  await writeFile(join(dir, 'onnx', 'model.onnx_data'), new Uint8Array(1000));
  await writeFile(join(dir, 'onnx', 'model_quantized.onnx'), new Uint8Array(300));
}

describe('describeDeviceModel', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'slmkit-device-models-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('lists an ONNX folder: its ONNX files with their external data, sizes, and parameters from config.json', async () => {
    const dir = join(tmp, 'folder');
    await makeOnnxFolder(dir);
    const { entry, paths } = await describeDeviceModel({ id: 'my model', path: dir });
    expect(entry.format).toBe('onnx');
    expect(entry.onnxFiles).toEqual({
      'onnx/model.onnx': { bytes: 1010, externalData: ['model.onnx_data'] },
      'onnx/model_quantized.onnx': { bytes: 300 },
    });
    expect(entry.bytes).toBe(1010);
    expect(entry.files.folder).toBe('/models/my%20model/');
    expect(entry.files['onnx/model.onnx_data']).toBe('/models/my%20model/onnx/model.onnx_data');
    expect([...paths.keys()].sort()).toEqual([
      'config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'onnx/model_quantized.onnx',
      'tokenizer.json',
    ]);
    // 100×32 embeddings + 32×100 classifier (untied) + 2 layers × (2·32 norms + 2·32·32 q/o + 2·32·16 k/v + 3·32·64 ffn) + 32
    expect(entry.parameters).toBe(3200 + 3200 + 2 * (64 + 2048 + 1024 + 6144) + 32);
  });

  it('refuses folders without config.json, tokenizer.json or an .onnx file, and checkpoints without a tokenizer', async () => {
    const dir = join(tmp, 'broken');
    await mkdir(dir, { recursive: true });
    await expect(describeDeviceModel({ id: 'b', path: dir })).rejects.toThrow(/no config\.json/);
    await writeFile(join(dir, 'config.json'), '{"hidden_size": 8');
    await writeFile(join(dir, 'tokenizer.json'), '{}');
    await expect(describeDeviceModel({ id: 'b', path: dir })).rejects.toThrow(/not valid JSON/);
    await writeFile(join(dir, 'config.json'), '{"hidden_size": 8}');
    await expect(describeDeviceModel({ id: 'b', path: dir })).rejects.toThrow(/no \.onnx file/);
    expect(() => parametersFromHfConfig({ hidden_size: 8 }, 'c.json')).toThrow(/num_attention_heads/);
    const file = join(tmp, 'model.bin');
    await writeFile(file, new Uint8Array(28));
    await expect(describeDeviceModel({ id: 'c', path: file })).rejects.toThrow(/tokenizer/);
  });

  it.skipIf(!stories)(
    `the shared stories260K ONNX folder has the llama2.c checkpoint's parameter count${stories ? '' : ` (skipped: ${SHARED_MISSING_REASON})`}`,
    async () => {
      const paths = stories!;
      const onnx = await describeDeviceModel({ id: 'onnx', path: paths.hfOnnx });
      const header = readLlama2cHeader(readFileSync(paths.model).subarray(0, 28), paths.model);
      expect(onnx.entry.parameters).toBe(parameterCount(llama2cHeaderToSpec(header)));
      const llama2c = await describeDeviceModel({ id: 'bin', path: paths.model, tokenizer: paths.tokenizer });
      expect(llama2c.entry).toMatchObject({ format: 'llama2c', parameters: onnx.entry.parameters });
      expect(llama2c.entry.files).toEqual({ model: '/models/bin/model', tokenizer: '/models/bin/tokenizer' });
    },
  );
});

describe('on-device routes of the demo server', () => {
  let tmp: string;
  let server: DemoServer;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'slmkit-device-routes-'));
    await makeOnnxFolder(join(tmp, 'folder'));
    const model = await createReferenceBackend().load(createRandomModel({ seed: 5, contextLength: 64 }));
    server = await createDemoServer({
      models: [{ id: 'tiny', model }],
      deviceModels: [{ id: 'folder', path: join(tmp, 'folder') }],
      webRoot: join(tmp, 'no-web'),
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('lists the device models and where the onnxruntime-web files are', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/models/index.json' });
    expect(res.statusCode).toBe(200);
    const index = res.json() as { data: { id: string; format: string }[]; ortWasm: string | null };
    expect(index.data.map((m) => [m.id, m.format])).toEqual([['folder', 'onnx']]);
    expect(index.ortWasm).toBe('/ort/');
  });

  it('serves the listed files of a folder (GET and HEAD) and nothing else in it', async () => {
    const data = await server.app.inject({ method: 'GET', url: '/models/folder/onnx/model.onnx_data' });
    expect(data.statusCode).toBe(200);
    expect(data.rawPayload.byteLength).toBe(1000);
    const head = await server.app.inject({ method: 'HEAD', url: '/models/folder/config.json' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('application/json');
    for (const url of [
      '/models/folder/secret.txt',
      '/models/folder/../folder/secret.txt',
      '/models/folder/%2e%2e/secret.txt',
      '/models/folder/onnx/missing.onnx',
      '/models/nope/config.json',
    ]) {
      const res = await server.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('not for the page');
    }
  });

  it("serves onnxruntime-web's WASM files from node_modules under /ort/, and only those", async () => {
    const wasm = await server.app.inject({ method: 'HEAD', url: '/ort/ort-wasm-simd-threaded.jsep.wasm' });
    expect(wasm.statusCode).toBe(200);
    expect(wasm.headers['content-type']).toBe('application/wasm');
    const loader = await server.app.inject({ method: 'HEAD', url: '/ort/ort-wasm-simd-threaded.jsep.mjs' });
    expect(loader.headers['content-type']).toMatch(/^text\/javascript/);
    for (const url of ['/ort/package.json', '/ort/ort.min.mjs', '/ort/..%2Fpackage.json', '/ort/missing.wasm']) {
      expect((await server.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
  });

  it('makes the page cross-origin isolated (multi-threaded WASM, whole-page memory measurement)', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/models/index.json' });
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });
});
