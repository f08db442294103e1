import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goldenContinuations } from '@slmkit/core/testing';
import { chromiumMissingReason, headlessChromiumLaunchOptions } from '@slmkit/core/testing/chromium';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { describe, expect, it } from 'vitest';
import { startStaticServer } from './static-server.test-helpers.js';

const stories = stories260KPaths();
const skip = chromiumMissingReason() ?? (stories ? undefined : SHARED_MISSING_REASON);

const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(skip !== undefined)(
  `browser: onnxruntime-web in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('greedy stories260K from the HF ONNX folder equals the llama2.c reference', async () => {
      const work = await mkdtemp(join(tmpdir(), 'slmkit-onnx-browser-'));
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
      const { url, server } = await startStaticServer(
        { '/assets/': outDir, '/ort/': ortDir, '/model/': stories!.hfOnnx },
        '<!doctype html><meta charset="utf-8"><title>slmkit onnx</title><script type="module" src="/assets/page.js"></script>',
      );
      const browser = await chromium.launch(headlessChromiumLaunchOptions());
      try {
        const page = await browser.newPage();
        const logs: string[] = [];
        page.on('console', (m) => logs.push(m.text()));
        page.on('pageerror', (e) => logs.push(String(e)));
        await page.goto(`${url}/?tokens=${goldenContinuations.stories260K.ids.length}`);
        await page.waitForFunction(
          () => (window as unknown as { __slmkitResult?: unknown }).__slmkitResult !== undefined,
          undefined,
          {
            timeout: 90_000,
          },
        );
        const result = (await page.evaluate(
          () => (window as unknown as { __slmkitResult: unknown }).__slmkitResult,
        )) as {
          tokens?: number[];
          text?: string;
          runtime?: string;
          error?: string;
        };
        expect(result.error, logs.join('\n')).toBeUndefined();
        expect(result.runtime).toBe('onnxruntime-web');
        expect(result.tokens).toEqual(goldenContinuations.stories260K.ids);
        expect(result.text).toBe(goldenContinuations.stories260K.text);
      } finally {
        await browser.close();
        server.close();
        await rm(work, { recursive: true, force: true });
      }
    }, 180_000);
  },
);
