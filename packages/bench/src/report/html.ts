import type { SuiteResult } from '../runner/result-types.js';
import { machineLine, renderMarkdown } from './markdown.js';
import { modelBackendRows } from './summary.js';
import { type Bar, barChart, escapeXml, type Point, scatterChart } from './svg-chart.js';
import { renderSweepCharts } from './sweep-report.js';

/** Markdown tables (as produced by renderMarkdown) to HTML tables; other lines to headings / paragraphs. */
function markdownToHtml(md: string): string {
  const out: string[] = [];
  let inTable = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replaceAll('\\|', '|'));
      if (cells.every((c) => /^-+:?$/.test(c))) continue;
      if (!inTable) {
        out.push('<table><thead><tr>', ...cells.map((c) => `<th>${escapeXml(c)}</th>`), '</tr></thead><tbody>');
        inTable = true;
      } else {
        out.push('<tr>', ...cells.map((c) => `<td>${escapeXml(c)}</td>`), '</tr>');
      }
      continue;
    }
    if (inTable) {
      out.push('</tbody></table>');
      inTable = false;
    }
    if (line.startsWith('# ')) out.push(`<h1>${escapeXml(line.slice(2))}</h1>`);
    else if (line.startsWith('## ')) out.push(`<h2>${escapeXml(line.slice(3))}</h2>`);
    else if (line.startsWith('- ')) out.push(`<p class="meta">${escapeXml(line.slice(2))}</p>`);
    else if (line.trim() !== '') out.push(`<p>${escapeXml(line)}</p>`);
  }
  if (inTable) out.push('</tbody></table>');
  return out.join('');
}

/** The charts: decode speed, TTFT, quality vs latency, memory vs size. */
export function renderCharts(result: SuiteResult): string[] {
  const charts: string[] = [];
  const speed = result.cells.filter((c) => c.status === 'ok' && c.scenarioType === 'speed');
  const decode: Bar[] = [];
  for (const c of speed) {
    const key = Object.keys(c.metrics).find((k) => /^tg\d+_tps$/.test(k));
    if (!key) continue;
    decode.push({
      label: `${c.model} · ${c.backend}`,
      value: c.metrics[key],
      error: c.distributions?.[key]?.stdev,
      group: c.backend,
    });
  }
  if (decode.length > 0) charts.push(barChart('Decode speed', 'tokens/s, ± stdev', decode));
  const ttft: Bar[] = speed
    .filter((c) => c.metrics.ttft_ms !== undefined)
    .map((c) => ({
      label: `${c.model} · ${c.backend}`,
      value: c.metrics.ttft_ms,
      error: c.distributions?.ttft_ms?.stdev,
      group: c.backend,
    }));
  if (ttft.length > 0) charts.push(barChart('Time to first token', 'ms, ± stdev', ttft));
  const rows = modelBackendRows(result);
  const quality: Point[] = rows
    .filter((r) => !r.generated && r.tpotMs !== undefined && (r.bpb !== undefined || r.acc !== undefined))
    .map((r) => ({
      label: `${r.model} · ${r.backend}`,
      x: r.tpotMs as number,
      y: r.bpb ?? (r.acc as number),
      group: r.role,
    }));
  if (quality.length > 0) {
    const yLabel = rows.some((r) => r.bpb !== undefined) ? 'bits per byte (lower is better)' : 'accuracy';
    charts.push(scatterChart('Quality vs latency', 'time per output token, p50 (ms)', yLabel, quality, { logX: true }));
  }
  const memory: Point[] = rows
    .filter((r) => r.modelBytes !== undefined && r.peakRssBytes !== undefined)
    .map((r) => ({
      label: `${r.model} · ${r.backend}`,
      x: r.modelBytes as number,
      y: (r.peakRssBytes as number) / 2 ** 20,
      group: r.backend,
    }));
  if (memory.length > 0)
    charts.push(scatterChart('Memory vs model size', 'model size (bytes)', 'peak RSS (MiB)', memory, { logX: true }));
  charts.push(...renderSweepCharts(result));
  return charts;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#111;max-width:1200px}table{border-collapse:collapse;margin:8px 0 24px;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}.meta{color:#444;margin:2px 0;font-size:13px}.charts svg{display:block;margin:12px 0;border:1px solid #eee}`;

/** A self-contained HTML page (inline CSS and SVG, no scripts, no external resources). */
export function renderHtml(result: SuiteResult): string {
  const charts = renderCharts(result);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>slm bench: ${escapeXml(result.suite)}</title><style>${STYLE}</style></head><body>${markdownToHtml(renderMarkdown(result))}<h2>Charts</h2><div class="charts">${charts.join('') || '<p>No chartable cells.</p>'}</div><p class="meta">Machine: ${escapeXml(machineLine(result))}</p></body></html>\n`;
}
