import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { classifySections } from './classify-markdown.js';
import { formatBytes, formatCount, formatMeanStdev, formatNumber } from './format.js';
import { table } from './markdown-table.js';
import { modelBackendRows, perplexitySpread } from './summary.js';
import { renderSweepMarkdown } from './sweep-report.js';

function speedTable(cells: CellResult[]): string {
  const speed = cells.filter((c) => c.status === 'ok' && c.scenarioType === 'speed');
  if (speed.length === 0) return '';
  const pp = [...new Set(speed.flatMap((c) => Object.keys(c.metrics).filter((k) => /^pp\d+_tps$/.test(k))))].sort();
  const tg = [...new Set(speed.flatMap((c) => Object.keys(c.metrics).filter((k) => /^tg\d+_tps$/.test(k))))].sort();
  const header = [
    'model',
    'params',
    'size',
    'backend',
    'threads',
    'load ms',
    ...pp.map((k) => `${k.replace('_tps', '')} t/s`),
    ...tg.map((k) => `${k.replace('_tps', '')} t/s`),
    'TTFT ms',
    'TPOT p50 / p90 / p99 ms',
    'peak RSS',
  ];
  const rows = speed.map((c) => [
    c.model,
    formatCount(c.metrics.parameters),
    formatBytes(c.metrics.model_bytes),
    c.backend,
    String(c.runtime?.threads ?? ''),
    formatNumber(c.metrics.load_ms, 1),
    ...pp.map((k) => formatMeanStdev(c.distributions?.[k], c.metrics[k])),
    ...tg.map((k) => formatMeanStdev(c.distributions?.[k], c.metrics[k])),
    formatNumber(c.metrics.ttft_ms),
    c.metrics.tpot_ms_p50 === undefined
      ? ''
      : `${formatNumber(c.metrics.tpot_ms_p50)} / ${formatNumber(c.metrics.tpot_ms_p90)} / ${formatNumber(c.metrics.tpot_ms_p99)}`,
    formatBytes(c.metrics.peak_rss_bytes),
  ]);
  return `## Speed (llama-bench style: mean ± stdev over repetitions)\n\n${table(header, rows)}\n`;
}

function qualityTable(result: SuiteResult): string {
  const q = result.cells.filter(
    (c) => c.status === 'ok' && (c.scenarioType === 'perplexity' || c.scenarioType === 'choice'),
  );
  if (q.length === 0) return '';
  const rows = q.map((c) => [
    c.model,
    c.backend,
    c.scenario,
    formatNumber(c.metrics.ppl, 4),
    formatNumber(c.metrics.bpb, 4),
    formatNumber(c.metrics.acc, 3),
    formatNumber(c.metrics.acc_norm, 3),
    String(c.metrics.scored_tokens ?? c.metrics.items ?? ''),
  ]);
  const spread = perplexitySpread(result);
  const agreement =
    spread.length === 0
      ? ''
      : `\nPerplexity across backends (max - min) / min:\n\n${table(
          ['model', 'scenario', 'backends', 'min', 'max', 'relative spread'],
          spread.map((s) => [
            s.model,
            s.scenario,
            String(s.backends),
            formatNumber(s.min, 6),
            formatNumber(s.max, 6),
            s.relative.toExponential(2),
          ]),
        )}\n`;
  return `## Quality\n\n${table(['model', 'backend', 'scenario', 'perplexity', 'bits/byte', 'acc', 'acc_norm', 'tokens / items'], rows)}\n${agreement}`;
}

function agreementTable(result: SuiteResult): string {
  if (result.agreement.length === 0) return '';
  const rows = result.agreement.map((a) => [
    a.model,
    a.scenario,
    `${a.backend} vs ${a.reference}`,
    formatNumber(a.tokenAgreement, 3),
    formatNumber(a.prefixAgreement, 3),
    a.firstDivergence === null ? '-' : String(a.firstDivergence),
  ]);
  return `## Greedy agreement\n\n${table(['model', 'scenario', 'backends', 'identical tokens', 'common prefix', 'first divergence'], rows)}\n`;
}

function tradeOffTable(result: SuiteResult): string {
  const rows = modelBackendRows(result);
  if (rows.length === 0) return '';
  return `## Size, memory, latency, quality (SLM vs LLM)\n\n${table(
    [
      'model',
      'role',
      'backend',
      'params',
      'size',
      'peak RSS',
      'TTFT ms',
      'decode t/s',
      'TPOT p50 ms',
      'perplexity',
      'bits/byte',
      'acc',
    ],
    rows.map((r) => [
      r.model,
      r.role,
      r.backend,
      formatCount(r.parameters),
      formatBytes(r.modelBytes),
      formatBytes(r.peakRssBytes),
      formatNumber(r.ttftMs),
      formatNumber(r.decodeTps, 1),
      formatNumber(r.tpotMs),
      formatNumber(r.ppl, 4),
      formatNumber(r.bpb, 4),
      formatNumber(r.acc, 3),
    ]),
  )}\n`;
}

function problemsTable(cells: CellResult[]): string {
  const bad = cells.filter((c) => c.status !== 'ok');
  if (bad.length === 0) return '';
  return `## Failed and skipped cells\n\n${table(
    ['model', 'backend', 'scenario', 'status', 'why'],
    bad.map((c) => [c.model, c.backend, c.scenario, c.status, (c.error ?? '').slice(0, 300)]),
  )}\n`;
}

export function machineLine(result: SuiteResult): string {
  const m = result.machine;
  const runtimes = Object.entries(m.runtimes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${m.cpuModel}, ${m.coresInQuota} cores in quota (${m.logicalCpus} logical), ${formatBytes(m.totalMemoryBytes)} RAM, ${m.platform}-${m.arch}, Node ${m.node}${runtimes ? `, ${runtimes}` : ''}${m.cpuPinning ? `; ${m.cpuPinning}` : ''}`;
}

/** The whole report as Markdown: machine, speed, quality, agreement, trade-off and failures. */
export function renderMarkdown(result: SuiteResult): string {
  const ok = result.cells.filter((c) => c.status === 'ok').length;
  const head = [
    `# slm bench: ${result.suite}`,
    '',
    `- machine: ${machineLine(result)}`,
    `- run: ${result.startedAt} to ${result.finishedAt}; ${ok} of ${result.cells.length} cells ok`,
    `- settings: ${JSON.stringify(result.settings)}`,
    '',
  ].join('\n');
  const sections = [
    speedTable(result.cells),
    qualityTable(result),
    agreementTable(result),
    classifySections(result.cells),
    tradeOffTable(result),
    renderSweepMarkdown(result),
    problemsTable(result.cells),
  ];
  return `${[head, ...sections.filter((s) => s !== '')].join('\n')}\n`;
}
