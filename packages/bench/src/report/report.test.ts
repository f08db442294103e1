import { chromiumMissingReason, headlessChromiumLaunchOptions } from '@slmkit/core/testing/chromium';
import { describe, expect, it } from 'vitest';
import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { compareResults, higherIsBetter, renderComparison } from './compare.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

function dist(mean: number, stdev: number) {
  return {
    count: 3,
    mean,
    stdev,
    min: mean - stdev,
    max: mean + stdev,
    p50: mean,
    p90: mean + stdev,
    p99: mean + stdev,
  };
}

function speedCell(backend: string, tg: number, rss: number): CellResult {
  return {
    suite: 's',
    model: 'stories260K',
    backend,
    scenario: 'speed',
    scenarioType: 'speed',
    status: 'ok',
    wallMs: 1200,
    runtime: { backend, device: 'cpu', threads: 2, weightType: 'f32', loadMs: 12 },
    model_info: { role: 'slm', parameters: 260_000, fileBytes: 1_100_000 },
    metrics: {
      pp64_tps: 5000,
      tg32_tps: tg,
      ttft_ms: 4,
      tpot_ms_mean: 1000 / tg,
      tpot_ms_p50: 1000 / tg,
      tpot_ms_p90: 1.2,
      tpot_ms_p99: 1.5,
      load_ms: 12,
      peak_rss_bytes: rss,
      parameters: 260_000,
      model_bytes: 1_100_000,
    },
    distributions: { tg32_tps: dist(tg, tg / 50), pp64_tps: dist(5000, 100), ttft_ms: dist(4, 0.5) },
  };
}

function fixture(tgLlama: number): SuiteResult {
  return {
    suite: 'fixture',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    machine: {
      cpuModel: 'Test CPU',
      logicalCpus: 4,
      coresInQuota: 2,
      totalMemoryBytes: 8 * 2 ** 30,
      platform: 'linux',
      arch: 'x64',
      node: 'v20.0.0',
      runtimes: { 'node-llama-cpp': '3.22.1' },
      hostname: 'h',
    },
    settings: { warmup: 1 },
    cells: [
      speedCell('reference', 900, 80 * 2 ** 20),
      speedCell('llamacpp', tgLlama, 120 * 2 ** 20),
      {
        suite: 's',
        model: 'stories260K',
        backend: 'llamacpp',
        scenario: 'ppl',
        scenarioType: 'perplexity',
        status: 'ok',
        wallMs: 10,
        model_info: { role: 'slm' },
        metrics: { ppl: 3.2512, bpb: 0.9123, scored_tokens: 512 },
      },
      {
        suite: 's',
        model: 'stories260K',
        backend: 'reference',
        scenario: 'ppl',
        scenarioType: 'perplexity',
        status: 'ok',
        wallMs: 10,
        model_info: { role: 'slm' },
        metrics: { ppl: 3.251, bpb: 0.9122, scored_tokens: 512 },
      },
      {
        suite: 's',
        model: 'stories260K',
        backend: 'onnx',
        scenario: 'speed',
        scenarioType: 'speed',
        status: 'failed',
        error: 'timed out after 1000 ms (killed)',
        wallMs: 1000,
        metrics: {},
      },
    ],
    agreement: [
      {
        model: 'stories260K',
        scenario: 'greedy',
        reference: 'reference',
        backend: 'llamacpp',
        tokenAgreement: 0.75,
        prefixAgreement: 0.5,
        firstDivergence: 16,
      },
    ],
  };
}

describe('renderMarkdown', () => {
  it('renders llama-bench style tables, quality, agreement and failures', () => {
    const md = renderMarkdown(fixture(1500));
    expect(md).toContain('| model | params | size | backend | threads | load ms | pp64 t/s | tg32 t/s |');
    expect(md).toMatch(
      /\| stories260K \| 260\.0K \| 1\.0 MiB \| llamacpp \| 2 \| 12\.0 \| 5000\.0 ± 100\.0 \| 1500\.0 ± 30\.00 \|/,
    );
    expect(md).toContain('| stories260K | llamacpp | ppl | 3.2512 | 0.9123 |');
    expect(md).toContain('| stories260K | greedy | llamacpp vs reference | 0.750 | 0.500 | 16 |');
    expect(md).toContain('timed out after 1000 ms (killed)');
    // (3.2512 - 3.251) / 3.251
    expect(md).toContain('| stories260K | ppl | 2 | 3.251000 | 3.251200 | 6.15e-5 |');
    expect(md).toContain('Test CPU, 2 cores in quota');
  });
});

describe('compareResults', () => {
  it('flags a slower decode as a regression and a failed cell as newly failed', () => {
    const c = compareResults(fixture(1500), fixture(1200), 0.1);
    const tg = c.changes.find((x) => x.backend === 'llamacpp' && x.metric === 'tg32_tps');
    expect(tg).toMatchObject({ before: 1500, after: 1200, verdict: 'regression' });
    expect(tg?.relative).toBeCloseTo(-0.2, 12);
    expect(c.regressions.map((r) => `${r.backend}:${r.metric}`)).toEqual([
      'llamacpp:tg32_tps',
      'llamacpp:tpot_ms_mean',
      'llamacpp:tpot_ms_p50',
    ]);
    expect(compareResults(fixture(1500), fixture(1450), 0.1).regressions).toEqual([]);
    const after = fixture(1500);
    after.cells[0] = { ...after.cells[0], status: 'failed', error: 'crashed' };
    expect(compareResults(fixture(1500), after).newlyFailed).toEqual([
      { model: 'stories260K', backend: 'reference', scenario: 'speed', error: 'crashed' },
    ]);
    expect(renderComparison(c, 0.1)).toContain(
      '| stories260K | llamacpp | speed | tg32_tps | 1500.0 | 1200.0 | -20.0% | regression |',
    );
    expect(higherIsBetter('ttft_ms')).toBe(false);
    expect(higherIsBetter('acc_norm')).toBe(true);
    expect(higherIsBetter('throughput_sps')).toBe(true);
    expect(higherIsBetter('latency_ms_p50')).toBe(false);
  });
});

describe('renderHtml', () => {
  const html = renderHtml(fixture(1500));

  it('is self-contained: inline styles and SVG, no scripts or external resources', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('<td>llamacpp vs reference</td>');
  });

  const missing = chromiumMissingReason();
  it.skipIf(missing !== undefined)(
    `renders in headless Chromium with visible charts${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch(headlessChromiumLaunchOptions());
      try {
        const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.setContent(html, { waitUntil: 'load' });
        const boxes = await page.$$eval('svg', (svgs) =>
          svgs.map((s) => s.getBoundingClientRect()).map((r) => ({ w: r.width, h: r.height })),
        );
        expect(boxes.length).toBeGreaterThanOrEqual(3);
        for (const b of boxes) expect(b.w * b.h).toBeGreaterThan(10_000);
        const bars = await page.$$eval('svg rect', (rects) => rects.map((r) => r.getBoundingClientRect().width));
        // decode bars: llamacpp (1500 t/s) drawn wider than reference (900 t/s)
        expect(Math.max(...bars)).toBeGreaterThan(100);
        const shot = await page.screenshot({ fullPage: true });
        expect(shot.subarray(1, 4).toString()).toBe('PNG');
        expect(shot.length).toBeGreaterThan(20_000);
        expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
