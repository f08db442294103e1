import { describe, expect, it } from 'vitest';
import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { compareResults, renderComparison } from './compare.js';
import { renderRunToRun, runToRunSpread } from './run-to-run.js';

function cell(backend: string, tg: number | undefined, status: CellResult['status'] = 'ok'): CellResult {
  return {
    suite: 'quick',
    model: 'm',
    backend,
    scenario: 'speed',
    scenarioType: 'speed',
    status,
    wallMs: 1,
    metrics: tg === undefined ? {} : { tg96_tps: tg, pp64_tps: 5000, ttft_ms: 3 },
  };
}

function run(cells: CellResult[], startedAt = '2026-01-01T00:00:00.000Z'): SuiteResult {
  return {
    suite: 'quick',
    startedAt,
    finishedAt: '2026-01-01T00:02:00.000Z',
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
    },
    settings: {},
    cells,
    agreement: [],
  };
}

describe('runToRunSpread', () => {
  const a = run([
    cell('llamacpp', 1000),
    cell('onnx', 1000),
    cell('tfjs', 100),
    cell('gone', 50),
    cell('x', 1, 'failed'),
  ]);
  const b = run([cell('llamacpp', 1050), cell('onnx', 880), cell('tfjs', 100), cell('x', 2)]);

  it('measures abs(a - b) / mean per decode cell and counts those within the bar', () => {
    const r = runToRunSpread(a, b);
    expect(r.rows.map((x) => [x.backend, x.metric])).toEqual([
      ['llamacpp', 'tg96_tps'],
      ['onnx', 'tg96_tps'],
      ['tfjs', 'tg96_tps'],
    ]);
    expect(r.rows[0].spread).toBeCloseTo(50 / 1025, 12);
    expect(r.rows[1].spread).toBeCloseTo(120 / 940, 12);
    expect(r.rows[1].within).toBe(false);
    expect(r.rows[2].spread).toBe(0);
    expect(r.within).toBe(2);
    expect(r.maxSpread).toBeCloseTo(120 / 940, 12);
    // ok in one run only: 'gone' (missing in b) and 'x' (failed in a)
    expect(r.unmatched.map((u) => u.backend).sort()).toEqual(['gone', 'x']);
  });

  it('uses the given bar and metrics', () => {
    expect(runToRunSpread(a, b, { limit: 0.2 }).within).toBe(3);
    const pp = runToRunSpread(a, b, { metric: /^pp\d+_tps$/ });
    expect(pp.rows.every((x) => x.metric === 'pp64_tps' && x.spread === 0)).toBe(true);
  });

  it('renders the table with a summary line, and compare shows it too', () => {
    const md = renderRunToRun(runToRunSpread(a, b), a, b);
    expect(md).toContain('| m | onnx | tg96_tps | 1000.0 | 880.0 | 12.8% | **no** |');
    expect(md).toContain('2 of 3 cells within 10.0%; largest spread 12.8%.');
    expect(md).toContain('- run 1: 2026-01-01T00:00:00.000Z to 2026-01-01T00:02:00.000Z, 4 ok, 1 failed, 0 skipped');
    const comparison = compareResults(a, b, 0.1);
    expect(comparison.spread.within).toBe(2);
    expect(renderComparison(comparison, 0.1)).toContain('## Run-to-run spread');
  });
});
