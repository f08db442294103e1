// Where tinyjs stops beating onnxruntime-web in the page: decode tokens/s of both runtimes in headless Chromium, on
// the demo's own UI (on-device mode, plain completion, greedy), for stories260K and random-weight Llama models of
// growing size (llama2.c checkpoints written to a temp folder, with stories260K's 512-token tokenizer). A timing
// script, not a test. Needs /usr/bin/chromium and ../shared. Run from the repository root:
//   node --conditions=source --import ./apps/demo/src/testing/ts-register.mjs apps/demo/scripts/bench-device-runtimes.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parameterCount, writeLlama2cCheckpoint } from '@slmkit/core';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { headlessChromiumLaunchOptions } from '@slmkit/core/testing/chromium';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { createDemoServer } from '../src/server/demo-server.js';
import type { DeviceModelOptions } from '../src/server/device-models.js';

const TOKENS = 128;
const RUNS = 5;
const SIZES = [
  { dim: 96, nLayers: 5, nHeads: 6, nKvHeads: 6, ffnDim: 256 },
  { dim: 128, nLayers: 6, nHeads: 8, nKvHeads: 8, ffnDim: 344 },
  { dim: 192, nLayers: 8, nHeads: 12, nKvHeads: 12, ffnDim: 512 },
  { dim: 288, nLayers: 6, nHeads: 6, nKvHeads: 6, ffnDim: 768 },
  { dim: 512, nLayers: 8, nHeads: 8, nKvHeads: 8, ffnDim: 1376 },
];

const paths = stories260KPaths();
if (!paths) throw new Error('../shared is absent: this benchmark needs stories260K');
const work = await mkdtemp(join(tmpdir(), 'slmkit-device-bench-'));
try {
  const deviceModels: DeviceModelOptions[] = [{ id: 'stories260K', path: paths.model, tokenizer: paths.tokenizer }];
  for (const size of SIZES) {
    const data = createRandomModel({ ...size, vocabSize: 512, contextLength: 512, seed: 11 });
    const id = `random-${(parameterCount(data.spec) / 1e6).toFixed(1)}M`;
    const file = join(work, `${id}.bin`);
    await writeFile(file, writeLlama2cCheckpoint(data));
    deviceModels.push({ id, path: file, tokenizer: paths.tokenizer });
  }
  await build({
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    build: { outDir: join(work, 'web'), emptyOutDir: true },
    logLevel: 'error',
  });
  const model = await createReferenceBackend().load({ path: paths.model, tokenizerPath: paths.tokenizer });
  const server = await createDemoServer({
    models: [{ id: 'api', model }],
    deviceModels,
    port: 0,
    webRoot: join(work, 'web'),
  });
  const base = await server.listen();
  const browser = await chromium.launch(headlessChromiumLaunchOptions());
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/?mode=device`);
    await page.locator('body[data-state="ready"]').waitFor({ timeout: 60_000 });
    await page.locator('#raw').evaluate((el) => {
      (el as HTMLInputElement).checked = true;
    });
    await page.locator('#max-tokens').evaluate((el, v) => {
      (el as HTMLInputElement).value = v;
    }, String(TOKENS));
    console.log(`decode tokens/s in headless Chromium, best of ${RUNS} × ${TOKENS} greedy tokens (plain completion)`);
    for (const { id } of deviceModels) {
      const row: string[] = [];
      for (const runtime of ['tinyjs', 'onnxruntime-web']) {
        await selectRuntime(page, id, runtime);
        const rates: number[] = [];
        for (let run = 0; run < RUNS; run++) rates.push(await complete(page));
        const best = Math.max(...rates);
        // The UI's speed test too (3 × 256 tokens, EOS ignored) where it takes seconds, not minutes.
        const speed = best > 150 ? ` (speed test ${(await speedTest(page)).toFixed(0)})` : '';
        row.push(`${runtime} ${best.toFixed(0)}${speed}`);
      }
      console.log(`${id.padEnd(14)} ${row.join('   ')}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

async function selectRuntime(page: Page, id: string, runtime: string): Promise<void> {
  if ((await page.locator('#model').inputValue()) !== id) {
    await page.selectOption('#model', id);
    await page.locator(`body[data-state="ready"][data-loaded^="${id}:"]`).waitFor({ timeout: 120_000 });
  }
  if ((await page.locator('#backend').inputValue()) !== runtime) {
    await page.selectOption('#backend', runtime);
    await page.locator(`body[data-state="ready"][data-loaded="${id}:${runtime}"]`).waitFor({ timeout: 120_000 });
  }
}

/** One completion of the prompt; the decode tokens/s the UI shows for it. */
async function complete(page: Page): Promise<number> {
  await page.click('#reset');
  await page.fill('#input', 'Once upon a time');
  await page.click('#send');
  await page.locator('.message.assistant[data-done="true"]').waitFor({ timeout: 300_000 });
  return Number(await page.locator('#tps').getAttribute('data-value'));
}

/** The UI's speed test: best of 3 greedy decodes of 256 tokens. */
async function speedTest(page: Page): Promise<number> {
  await page.evaluate(() => document.querySelector('#bench')?.removeAttribute('data-runs'));
  await page.click('#bench-run');
  await page.locator('#bench[data-runs]').waitFor({ timeout: 300_000 });
  return Number(await page.locator('#bench').getAttribute('data-value'));
}
