import type { CellResult, SuiteResult } from '../runner/result-types.js';
import { formatBytes, formatCount, formatNumber } from './format.js';
import { table } from './markdown-table.js';
import { metricLike } from './summary.js';
import { colorFor, escapeXml } from './svg-chart.js';

/** One speed cell of a size sweep: a point on its series' curve. */
export interface SweepPoint {
  model: string;
  parameters: number;
  modelBytes?: number;
  decodeTps?: number;
  tpotMs?: number;
  ttftMs?: number;
  prefillTps?: number;
  peakRssBytes?: number;
  loadMs?: number;
}

/** A backend with one weight encoding (`llamacpp q8_0`, `onnx-int8 int8`): one curve over the sizes. */
export interface SweepSeries {
  name: string;
  points: SweepPoint[];
}

function seriesName(c: CellResult): string {
  const w = c.runtime?.weightType;
  return w ? `${c.backend} ${w}` : c.backend;
}

const WEIGHT_ORDER = ['f32', 'f16', 'bf16', 'q8_0', 'int8', 'q4_0'];

/** Speed cells grouped by (backend, weight encoding), each sorted by parameter count. */
export function sweepSeries(result: SuiteResult): SweepSeries[] {
  const map = new Map<string, SweepPoint[]>();
  for (const c of result.cells) {
    const parameters = c.metrics.parameters ?? c.model_info?.parameters;
    if (c.status !== 'ok' || c.scenarioType !== 'speed' || parameters === undefined) continue;
    const name = seriesName(c);
    const points = map.get(name) ?? [];
    points.push({
      model: c.model,
      parameters,
      modelBytes: c.metrics.model_bytes,
      decodeTps: metricLike(c, /^tg\d+_tps$/),
      tpotMs: c.metrics.tpot_ms_p50,
      ttftMs: c.metrics.ttft_ms,
      prefillTps: metricLike(c, /^pp\d+_tps$/),
      peakRssBytes: c.metrics.peak_rss_bytes,
      loadMs: c.metrics.load_ms,
    });
    map.set(name, points);
  }
  // Columns: backends in run order (skipped cells are listed first, so they do not count), each one's encodings
  // from widest to narrowest.
  const backends = [...new Set(result.cells.filter((c) => c.status !== 'skipped').map((c) => c.backend))];
  const rank = (name: string) => {
    const [backend, weight = ''] = name.split(' ');
    const w = WEIGHT_ORDER.indexOf(weight);
    return backends.indexOf(backend) * 100 + (w < 0 ? 99 : w);
  };
  return [...map]
    .sort((x, y) => rank(x[0]) - rank(y[0]))
    .map(([name, points]) => ({ name, points: points.sort((a, b) => a.parameters - b.parameters) }));
}

/** Whether a result is a size sweep: speed cells at three or more model sizes. */
export function isSizeSweep(result: SuiteResult): boolean {
  const sizes = new Set(sweepSeries(result).flatMap((s) => s.points.map((p) => p.parameters)));
  return sizes.size >= 3;
}

function pivot(series: SweepSeries[], value: (p: SweepPoint) => string): string {
  const sizes = [...new Set(series.flatMap((s) => s.points.map((p) => p.parameters)))].sort((a, b) => a - b);
  const rows = sizes.map((n) => [
    formatCount(n),
    ...series.map((s) => {
      const p = s.points.find((q) => q.parameters === n);
      return p ? value(p) : '';
    }),
  ]);
  return table(['params', ...series.map((s) => s.name)], rows);
}

/**
 * The size sweep as Markdown: decode tokens/s, TTFT and peak RSS per size (rows) and backend + encoding (columns),
 * so the growth of cost with size reads down a column and the backends compare along a row.
 */
export function renderSweepMarkdown(result: SuiteResult): string {
  if (!isSizeSweep(result)) return '';
  const series = sweepSeries(result);
  return [
    '## Size sweep: cost vs parameters',
    '',
    'Empty: not run at that size (see the failed and skipped cells for why).',
    '',
    'Decode tokens/s (median over repetitions):',
    '',
    pivot(series, (p) => formatNumber(p.decodeTps, 1)),
    '',
    'Time to first token, ms (prompt of the first prefill length, median):',
    '',
    pivot(series, (p) => formatNumber(p.ttftMs, 1)),
    '',
    'Peak RSS of the measuring process:',
    '',
    pivot(series, (p) => formatBytes(p.peakRssBytes)),
    '',
  ].join('\n');
}

/** A log-log line chart: one line per series, x and y on log10 axes with decade ticks. */
export function logLogChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly { name: string; points: readonly { x: number; y: number }[] }[],
): string {
  const width = 720;
  const height = 440;
  const m = { left: 70, right: 170, top: 34, bottom: 50 };
  const all = series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  if (all.length === 0) return '';
  const lx = all.map((p) => Math.log10(p.x));
  const ly = all.map((p) => Math.log10(p.y));
  let [x0, x1] = [Math.floor(Math.min(...lx)), Math.ceil(Math.max(...lx))];
  let [y0, y1] = [Math.floor(Math.min(...ly)), Math.ceil(Math.max(...ly))];
  if (x0 === x1) x1 += 1;
  if (y0 === y1) y1 += 1;
  const px = (v: number) => m.left + ((Math.log10(v) - x0) / (x1 - x0)) * (width - m.left - m.right);
  const py = (v: number) => height - m.bottom - ((Math.log10(v) - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const fmt = (e: number) => {
    const v = 10 ** e;
    return v >= 1e9 ? `${v / 1e9}G` : v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v);
  };
  const grid: string[] = [];
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e);
    grid.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${height - m.bottom}" stroke="#eee"/><text x="${x}" y="${height - m.bottom + 16}" text-anchor="middle" font-size="11">${fmt(e)}</text>`,
    );
  }
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    grid.push(
      `<line x1="${m.left}" y1="${y}" x2="${width - m.right}" y2="${y}" stroke="#eee"/><text x="${m.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(e)}</text>`,
    );
  }
  const lines = series.map((s, i) => {
    const pts = s.points.filter((p) => p.x > 0 && p.y > 0);
    const c = colorFor(i);
    const dash = i >= 8 ? ' stroke-dasharray="5 3"' : '';
    const path = pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    const dots = pts.map((p) => `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${c}"/>`).join('');
    const ly = m.top + 8 + i * 16;
    const legend = `<line x1="${width - m.right + 12}" y1="${ly}" x2="${width - m.right + 32}" y2="${ly}" stroke="${c}" stroke-width="2"${dash}/><text x="${width - m.right + 36}" y="${ly + 4}" font-size="11">${escapeXml(s.name)}</text>`;
    return `<polyline points="${path}" fill="none" stroke="${c}" stroke-width="2"${dash}/>${dots}${legend}`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}"><text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>${grid.join('')}<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#444"/><line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#444"/><text x="${(width - m.right + m.left) / 2}" y="${height - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)} (log scale)</text><text x="16" y="${height / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${height / 2})">${escapeXml(yLabel)} (log scale)</text>${lines.join('')}</svg>`;
}

/** The sweep's charts: time per output token, time to first token and peak RSS against parameters (log-log). */
export function renderSweepCharts(result: SuiteResult): string[] {
  if (!isSizeSweep(result)) return [];
  const series = sweepSeries(result);
  const curve = (f: (p: SweepPoint) => number | undefined) =>
    series.map((s) => ({
      name: s.name,
      points: s.points.flatMap((p) => {
        const y = f(p);
        return y === undefined ? [] : [{ x: p.parameters, y }];
      }),
    }));
  return [
    logLogChart(
      'Decode latency vs size',
      'parameters',
      'time per output token, p50 (ms)',
      curve((p) => p.tpotMs),
    ),
    logLogChart(
      'Time to first token vs size',
      'parameters',
      'TTFT (ms)',
      curve((p) => p.ttftMs),
    ),
    logLogChart(
      'Memory vs size',
      'parameters',
      'peak RSS (MiB)',
      curve((p) => (p.peakRssBytes === undefined ? undefined : p.peakRssBytes / 2 ** 20)),
    ),
  ].filter((svg) => svg !== '');
}
