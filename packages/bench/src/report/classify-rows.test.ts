import { describe, expect, it } from 'vitest';
import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { classifySections } from './classify-markdown.js';
import { classifyRows, distilRows } from './classify-rows.js';
import { renderMarkdown } from './markdown.js';
import { modelBackendRows } from './summary.js';

function cell(
  model: string,
  backend: string,
  metrics: Record<string, number>,
  predictions: string[],
  extra: Partial<CellResult> = {},
): CellResult {
  return {
    suite: 's',
    model,
    backend,
    scenario: 'dev',
    scenarioType: 'classify',
    status: 'ok',
    wallMs: 1,
    runtime: {
      backend,
      device: 'cpu',
      threads: 1,
      weightType: 'f32',
      loadMs: 1,
      details: { batching: `${backend} way` },
    },
    model_info: { role: 'slm' },
    metrics: { items: predictions.length, batch_size: 32, latency_ms_mean: 1, latency_ms_p90: 2, ...metrics },
    predictions,
    ...extra,
  };
}

const cells: CellResult[] = [
  cell('teacher', 'reference', { acc: 0.8, parameters: 1000, latency_ms_p50: 3, throughput_sps: 100 }, [
    '1',
    '0',
    '1',
    '1',
  ]),
  cell('teacher', 'tfjs', { acc: 0.8, parameters: 1000, latency_ms_p50: 2, throughput_sps: 400 }, ['1', '0', '1', '0']),
  cell(
    'student',
    'reference',
    { acc: 0.79, parameters: 500, latency_ms_p50: 1, throughput_sps: 250 },
    ['1', '0', '1', '1'],
    { model_info: { role: 'slm', distilledFrom: 'teacher' } },
  ),
  cell(
    'student',
    'tfjs',
    { acc: 0.82, parameters: 500, latency_ms_p50: 0.5, throughput_sps: 1000 },
    ['1', '0', '1', '1'],
    { model_info: { role: 'slm', distilledFrom: 'teacher' } },
  ),
  cell('teacher', 'vader', { acc: 0.6, latency_ms_p50: 0.01, throughput_sps: 9000 }, ['1', '1', '1', '1'], {
    runtime: { backend: 'vader-sentiment@1.1.3', device: 'cpu', threads: 1, weightType: 'lexicon', loadMs: 1 },
  }),
  { ...cell('student', 'onnx', {}, []), status: 'failed', error: 'no embed' },
];

describe('classification report rows', () => {
  it('compares predictions with the reference backend, not for lexicons or the reference itself', () => {
    const rows = classifyRows(cells);
    expect(rows).toHaveLength(5);
    const by = (m: string, b: string) => rows.find((r) => r.model === m && r.backend === b);
    expect(by('teacher', 'reference')?.agreement).toBeUndefined();
    expect(by('teacher', 'tfjs')).toMatchObject({ agreement: 0.75, agreementWith: 'reference' });
    expect(by('student', 'tfjs')?.agreement).toBe(1);
    expect(by('teacher', 'vader')).toMatchObject({ lexicon: true, runtime: 'vader-sentiment@1.1.3' });
    expect(by('teacher', 'vader')?.agreement).toBeUndefined();
  });

  it("gives the summary table the classifier accuracy as each row's quality figure", () => {
    const rows = modelBackendRows({ cells, agreement: [] } as unknown as SuiteResult);
    const studentTfjs = rows.find((r) => r.model === 'student' && r.backend === 'tfjs');
    expect(studentTfjs?.acc).toBe(0.82);
    expect(studentTfjs?.parameters).toBe(500);
  });

  it('pairs each student with its teacher on the same backend (DistilBERT table)', () => {
    const rows = distilRows(cells);
    expect(rows.map((r) => r.backend)).toEqual(['reference', 'tfjs']);
    const tfjs = rows[1];
    expect(tfjs.parameterRatio).toBe(0.5);
    expect(tfjs.accRatio).toBeCloseTo(0.82 / 0.8, 10);
    expect(tfjs.speedup).toBe(4);
    expect(tfjs.throughputRatio).toBe(2.5);
  });

  it('renders both sections, and nothing without classify cells', () => {
    const md = classifySections(cells);
    expect(md).toContain('## Text classification');
    expect(md).toContain('| vader-sentiment@1.1.3 (lexicon) | vader | dev |');
    expect(md).toContain(
      '| teacher -> student | tfjs | 500 / 1.0K (50.00%) | 80.000% / 82.000% | 102.50% | 4.00x | 2.50x |',
    );
    expect(md).toContain('- tfjs: tfjs way');
    expect(classifySections(cells.filter((c) => c.backend === 'vader'))).not.toContain('Teacher vs student');
    expect(classifySections([])).toBe('');
    const result: SuiteResult = {
      suite: 's',
      startedAt: 'a',
      finishedAt: 'b',
      machine: {
        cpuModel: 'cpu',
        logicalCpus: 2,
        coresInQuota: 2,
        totalMemoryBytes: 1,
        platform: 'linux',
        arch: 'x64',
        node: '20',
        runtimes: {},
        hostname: 'h',
      },
      settings: {},
      cells,
      agreement: [],
    };
    expect(renderMarkdown(result)).toContain('## Teacher vs student (DistilBERT-style)');
  });
});
