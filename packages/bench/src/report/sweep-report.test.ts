import { describe, expect, it } from 'vitest';
import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { isSizeSweep, renderSweepCharts, renderSweepMarkdown, sweepSeries } from './sweep-report.js';

function cell(model: string, backend: string, weightType: string, parameters: number, tps: number): CellResult {
  return {
    suite: 'sweep',
    model,
    backend,
    scenario: 'speed',
    scenarioType: 'speed',
    status: 'ok',
    wallMs: 1,
    runtime: { backend, device: 'cpu', threads: 1, weightType, loadMs: 1 },
    metrics: {
      parameters,
      tg32_tps: tps,
      pp64_tps: tps * 10,
      ttft_ms: 64_000 / (tps * 10),
      tpot_ms_p50: 1000 / tps,
      peak_rss_bytes: 50 * 2 ** 20 + parameters * 4,
    },
  };
}

function sweep(cells: CellResult[]): SuiteResult {
  return {
    suite: 'sweep',
    startedAt: 'a',
    finishedAt: 'b',
    machine: {
      cpuModel: 'c',
      logicalCpus: 2,
      coresInQuota: 2,
      totalMemoryBytes: 1,
      platform: 'linux',
      arch: 'x64',
      node: 'v20',
      runtimes: {},
      hostname: 'h',
      cpuPinning: 'each measurement child pinned to CPU 1',
    },
    settings: {},
    cells,
    agreement: [],
  };
}

const cells: CellResult[] = [
  cell('m-1m-f32', 'llamacpp', 'f32', 1_000_000, 3000),
  cell('m-1m-q8', 'llamacpp', 'q8_0', 1_000_000, 3500),
  cell('m-24m-f32', 'llamacpp', 'f32', 24_000_000, 300),
  cell('m-24m-q8', 'llamacpp', 'q8_0', 24_000_000, 600),
  cell('m-1b-f32', 'llamacpp', 'f32', 1_100_000_000, 4),
  cell('m-1m-f32', 'onnx', 'f32', 1_000_000, 2500),
  { ...cell('m-1b-f32', 'tfjs', 'f32', 1_100_000_000, 1), status: 'skipped' as const, error: 'wasm 4 GB' },
];

describe('size sweep report', () => {
  it('groups speed cells into one curve per backend and encoding, by size', () => {
    const series = sweepSeries(sweep(cells));
    expect(series.map((s) => s.name)).toEqual(['llamacpp f32', 'llamacpp q8_0', 'onnx f32']);
    // suite order of backends, then encodings from widest to narrowest, whatever order the cells came in
    expect(sweepSeries(sweep([...cells].reverse())).map((s) => s.name)).toEqual([
      'onnx f32',
      'llamacpp f32',
      'llamacpp q8_0',
    ]);
    expect(series[0].points.map((p) => p.parameters)).toEqual([1_000_000, 24_000_000, 1_100_000_000]);
    expect(series[0].points[2].decodeTps).toBe(4);
    expect(isSizeSweep(sweep(cells))).toBe(true);
    expect(isSizeSweep(sweep(cells.slice(0, 2)))).toBe(false);
  });

  it('renders pivot tables and log-log charts, and only for sweeps', () => {
    const md = renderSweepMarkdown(sweep(cells));
    expect(md).toContain('| params | llamacpp f32 | llamacpp q8_0 | onnx f32 |');
    expect(md).toContain('| 1.10B | 4.0 |  |  |');
    expect(md).toContain('| 1.00M | 3000.0 | 3500.0 | 2500.0 |');
    const charts = renderSweepCharts(sweep(cells));
    expect(charts).toHaveLength(3);
    expect(charts[0].match(/<polyline /g)).toHaveLength(3);
    expect(charts[0]).toContain('>1G</text>');
    expect(renderMarkdown(sweep(cells))).toContain('## Size sweep: cost vs parameters');
    expect(renderMarkdown(sweep(cells))).toContain('; each measurement child pinned to CPU 1');
    expect(renderHtml(sweep(cells))).toContain('Decode latency vs size');
    expect(renderSweepMarkdown(sweep(cells.slice(0, 2)))).toBe('');
    expect(renderSweepCharts(sweep(cells.slice(0, 2)))).toEqual([]);
  });
});
