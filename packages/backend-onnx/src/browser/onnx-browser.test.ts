import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goldenContinuations } from '@slmkit/core/testing';
import { chromiumMissingReason, headlessChromiumLaunchOptions } from '@slmkit/core/testing/chromium';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertToOnnx } from '../index.js';
import { startStaticServer } from './static-server.test-helpers.js';

const stories = stories260KPaths();
const skip = chromiumMissingReason() ?? (stories ? undefined : SHARED_MISSING_REASON);

const here = dirname(fileURLToPath(import.meta.url));

interface PageResult {
  tokens?: number[];
  text?: string;
  runtime?: string;
  device?: string;
  file?: string;
  error?: string;
}

describe.skipIf(skip !== undefined)(
  `browser: onnxruntime-web in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let work: string;
    let url: string;
    let server: Server;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'slmkit-onnx-browser-'));
      const outDir = join(work, 'dist');
      await build({
        configFile: false,
        logLevel: 'error',
        root: here,
        resolve: { conditions: ['source', 'browser', 'import', 'module', 'default'] },
        build: {
          outDir,
          emptyOutDir: true,
          minify: false,
          target: 'es2022',
          lib: { entry: join(here, 'browser-page.test-helpers.ts'), formats: ['es'], fileName: () => 'page.js' },
        },
      });
      const ortDist = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '..', 'dist');
      const ortDir = existsSync(join(ortDist, 'ort-wasm-simd-threaded.wasm'))
        ? ortDist
        : dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
      // Our own export of stories260K too: it has the KV-slot graphs, which the browser runs on WASM.
      const ours = join(work, 'ours');
      await convertToOnnx({ path: stories!.model, tokenizerPath: stories!.tokenizer }, ours);
      ({ url, server } = await startStaticServer(
        { '/assets/': outDir, '/ort/': ortDir, '/model/': stories!.hfOnnx, '/ours/': ours },
        '<!doctype html><meta charset="utf-8"><title>slmkit onnx</title><script type="module" src="/assets/page.js"></script>',
      ));
    }, 120_000);

    afterAll(async () => {
      server?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    /** Greedy stories260K in a fresh browser; `device` goes to `backend.load`, `query` to the page. */
    async function runPage(options: { softwareWebGpu: boolean; device?: string; query?: string }): Promise<PageResult> {
      const browser = await chromium.launch(headlessChromiumLaunchOptions({ softwareWebGpu: options.softwareWebGpu }));
      try {
        const page = await browser.newPage();
        const logs: string[] = [];
        page.on('console', (m) => logs.push(m.text()));
        page.on('pageerror', (e) => logs.push(String(e)));
        const device = options.device ? `&device=${options.device}` : '';
        const query = options.query ? `&${options.query}` : '';
        await page.goto(`${url}/?tokens=${goldenContinuations.stories260K.ids.length}${device}${query}`);
        await page.waitForFunction(
          () => (window as unknown as { __slmkitResult?: unknown }).__slmkitResult !== undefined,
          undefined,
          { timeout: 150_000 },
        );
        const result = (await page.evaluate(
          () => (window as unknown as { __slmkitResult: unknown }).__slmkitResult,
        )) as PageResult;
        expect(result.error, logs.join('\n')).toBeUndefined();
        return result;
      } finally {
        await browser.close();
      }
    }

    it('greedy stories260K from the HF ONNX folder equals the llama2.c reference (WASM)', async () => {
      const result = await runPage({ softwareWebGpu: false });
      expect(result.runtime).toBe('onnxruntime-web');
      expect(result.device).toBe('wasm');
      expect(result.tokens).toEqual(goldenContinuations.stories260K.ids);
      expect(result.text).toBe(goldenContinuations.stories260K.text);
      // A third-party folder has no KV-slot graph: the Optimum one runs.
      expect(result.file).toMatch(/\/onnx\/model\.onnx$/);
    }, 180_000);

    it('runs our export through its KV-slot graph on WASM, and through its Optimum graph when asked, with the same text', async () => {
      const slots = await runPage({ softwareWebGpu: false, query: 'model=ours' });
      expect(slots.file).toMatch(/\/onnx\/model_slots\.onnx$/);
      expect(slots.tokens).toEqual(goldenContinuations.stories260K.ids);
      expect(slots.text).toBe(goldenContinuations.stories260K.text);
      const optimum = await runPage({ softwareWebGpu: false, query: 'model=ours&layout=optimum' });
      expect(optimum.file).toMatch(/\/onnx\/model\.onnx$/);
      expect(optimum.tokens).toEqual(goldenContinuations.stories260K.ids);
    }, 240_000);

    it('runs on the WebGPU execution provider (Chromium software WebGPU) with the same greedy text', async () => {
      const result = await runPage({ softwareWebGpu: true, device: 'webgpu' });
      expect(result.device).toBe('webgpu');
      expect(result.tokens).toEqual(goldenContinuations.stories260K.ids);
      expect(result.text).toBe(goldenContinuations.stories260K.text);
    }, 180_000);

    it('falls back to WASM when WebGPU is asked for but the browser has none', async () => {
      const result = await runPage({ softwareWebGpu: false, device: 'webgpu' });
      expect(result.device).toBe('wasm');
      expect(result.tokens).toEqual(goldenContinuations.stories260K.ids);
    }, 180_000);
  },
);
