// Decode benchmark in headless Chromium (onnxruntime-web, WASM, 1 thread): slmkit's KV-slot graph vs the Optimum graph
// of the same exported stories260K folder, greedy `--tokens` after "Once upon a time" (no stop token), each run in a
// fresh browser context, layouts interleaved per repeat. Needs Chromium (see the README), ../shared and the packages
// built:  pnpm --filter @slmkit/core --filter @slmkit/backend-onnx build
// usage: node packages/backend-onnx/bench/browser-decode.mjs [--repeat 5] [--tokens 256] [--work /tmp/slmkit-browser-bench]
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { convertToOnnx } from '@slmkit/backend-onnx';
import { chromiumMissingReason, headlessChromiumLaunchOptions } from '@slmkit/core/testing/chromium';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '256' },
    work: { type: 'string', default: '/tmp/slmkit-browser-bench' },
  },
});
const missing = chromiumMissingReason();
if (missing) throw new Error(`no Chromium: ${missing}`);
const stories = stories260KPaths();
if (!stories) throw new Error('../shared is absent: stories260K is not available');

const browserDir = fileURLToPath(new URL('../src/browser/', import.meta.url));
const pageDir = join(values.work, 'page');
await build({
  configFile: false,
  logLevel: 'error',
  root: browserDir,
  resolve: { conditions: ['source', 'browser', 'import', 'module', 'default'] },
  build: {
    outDir: pageDir,
    emptyOutDir: true,
    target: 'es2022',
    lib: { entry: join(browserDir, 'browser-page.test-helpers.ts'), formats: ['es'], fileName: () => 'page.js' },
  },
});
const modelDir = join(values.work, 'stories260k');
if (!existsSync(join(modelDir, 'onnx', 'model_slots.onnx'))) {
  await convertToOnnx({ path: stories.model, tokenizerPath: stories.tokenizer }, modelDir);
}
const require = createRequire(fileURLToPath(new URL('../package.json', import.meta.url)));
const ortDist = join(dirname(require.resolve('onnxruntime-web')), '..', 'dist');
const ortDir = existsSync(join(ortDist, 'ort-wasm-simd-threaded.wasm'))
  ? ortDist
  : dirname(require.resolve('onnxruntime-web'));

// Requests to this origin are answered from disk by Playwright itself (no HTTP server).
const origin = 'http://slmkit.bench';
const mounts = { '/assets/': pageDir, '/ort/': ortDir, '/ours/': modelDir };
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/assets/page.js"></script>';

const browser = await chromium.launch(headlessChromiumLaunchOptions({ softwareWebGpu: false }));
async function runPage(layout) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.route(`${origin}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: html });
      for (const [prefix, dir] of Object.entries(mounts)) {
        if (!path.startsWith(prefix)) continue;
        const relative = normalize(decodeURIComponent(path.slice(prefix.length)));
        const file = join(dir, relative);
        if (relative.startsWith('..') || !existsSync(file)) break;
        return route.fulfill({ path: file, contentType: types[extname(file)] ?? 'application/octet-stream' });
      }
      return route.fulfill({ status: 404, body: '' });
    });
    await page.goto(`${origin}/?model=ours&layout=${layout}&tokens=${values.tokens}&nostop=1`);
    await page.waitForFunction(() => window.__slmkitResult !== undefined, undefined, { timeout: 300_000 });
    const result = await page.evaluate(() => window.__slmkitResult);
    if (result.error) throw new Error(`${layout}: ${result.error}`);
    return result;
  } finally {
    await context.close();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const runs = [];
try {
  for (let rep = 0; rep < Number(values.repeat); rep++) {
    for (const layout of ['optimum', 'slots']) {
      const r = await runPage(layout);
      runs.push({
        rep,
        layout,
        file: r.file,
        ids: r.tokens,
        decode: r.decodeTokensPerSecond,
        ttft: r.timeToFirstTokenMs,
      });
      process.stderr.write(
        `repeat ${rep + 1} ${layout}: ${r.decodeTokensPerSecond.toFixed(0)} tok/s, TTFT ${r.timeToFirstTokenMs.toFixed(1)} ms (${r.file.split('/').pop()})\n`,
      );
    }
  }
} finally {
  await browser.close();
}
const pick = (layout) => runs.filter((r) => r.layout === layout);
const ratios = pick('slots').map((r, i) => r.decode / pick('optimum')[i].decode);
// Greedy: every run, of either layout, must give the same ids.
const sameIds = runs.every((r) => JSON.stringify(r.ids) === JSON.stringify(runs[0].ids));
console.log(
  JSON.stringify(
    {
      tokens: Number(values.tokens),
      optimum: {
        decodeTokensPerSecond: median(pick('optimum').map((r) => r.decode)),
        ttftMs: median(pick('optimum').map((r) => r.ttft)),
      },
      slots: {
        decodeTokensPerSecond: median(pick('slots').map((r) => r.decode)),
        ttftMs: median(pick('slots').map((r) => r.ttft)),
      },
      slotsVsOptimum: { median: median(ratios), each: ratios },
      sameIds,
      runs: runs.map(({ ids, ...r }) => ({ ...r, tokens: ids.length })),
    },
    null,
    2,
  ),
);
