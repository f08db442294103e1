/** Minimal, dependency-free SVG charts for the HTML report (inline, no scripts). */

export function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length];
}

export interface Bar {
  label: string;
  value: number;
  /** Error bar half-width (e.g. stdev). */
  error?: number;
  group?: string;
}

/** Horizontal bar chart: one bar per entry, coloured by group. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const width = 720;
  const rowH = 22;
  const left = 260;
  const top = 34;
  const height = top + bars.length * rowH + 30;
  const max = Math.max(1e-9, ...bars.map((b) => b.value + (b.error ?? 0)));
  const groups = [...new Set(bars.map((b) => b.group ?? ''))];
  const scale = (v: number) => ((width - left - 70) * v) / max;
  const items = bars.map((b, i) => {
    const y = top + i * rowH;
    const w = scale(b.value);
    const color = colorFor(groups.indexOf(b.group ?? ''));
    const err = b.error
      ? `<line x1="${left + scale(b.value - b.error)}" x2="${left + scale(b.value + b.error)}" y1="${y + 8}" y2="${y + 8}" stroke="#111" stroke-width="1.5"/>`
      : '';
    return `<text x="${left - 6}" y="${y + 12}" text-anchor="end" font-size="12">${escapeXml(b.label)}</text><rect x="${left}" y="${y + 2}" width="${Math.max(1, w)}" height="${rowH - 6}" fill="${color}"/>${err}<text x="${left + w + 6}" y="${y + 12}" font-size="11">${b.value.toPrecision(4)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}"><text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)} (${escapeXml(unit)})</text>${items.join('')}</svg>`;
}

export interface Point {
  label: string;
  x: number;
  y: number;
  group?: string;
}

/** Scatter plot with optional log-scaled x axis; each point labelled. */
export function scatterChart(
  title: string,
  xLabel: string,
  yLabel: string,
  points: readonly Point[],
  options: { logX?: boolean } = {},
): string {
  const width = 720;
  const height = 420;
  const m = { left: 70, right: 45, top: 34, bottom: 50 };
  const fx = (v: number) => (options.logX ? Math.log10(Math.max(v, 1e-12)) : v);
  const xs = points.map((p) => fx(p.x));
  const ys = points.map((p) => p.y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(0, ...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const padX = (x1 - x0) * 0.08;
  x0 -= padX;
  x1 += padX;
  y1 += (y1 - y0) * 0.08;
  const px = (v: number) => m.left + ((fx(v) - x0) / (x1 - x0)) * (width - m.left - m.right);
  const py = (v: number) => height - m.bottom - ((v - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const groups = [...new Set(points.map((p) => p.group ?? ''))];
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + ((y1 - y0) * i) / 4;
    const xv = x0 + ((x1 - x0) * i) / 4;
    const xShown = options.logX ? 10 ** xv : xv;
    ticks.push(
      `<text x="${m.left - 6}" y="${py(yv) + 4}" text-anchor="end" font-size="11">${yv.toPrecision(3)}</text>`,
    );
    const xpx = m.left + (i / 4) * (width - m.left - m.right);
    ticks.push(
      `<text x="${xpx}" y="${height - m.bottom + 16}" text-anchor="middle" font-size="11">${xShown.toPrecision(3)}</text>`,
    );
  }
  const dots = points.map((p, i) => {
    const c = colorFor(groups.indexOf(p.group ?? ''));
    // Labels right of the point, or left of it in the right third so they stay inside the chart; stacked points
    // get their labels staggered vertically.
    const right = px(p.x) > width * 0.66;
    const stack = points
      .slice(0, i)
      .filter((q) => Math.abs(px(q.x) - px(p.x)) < 60 && Math.abs(py(q.y) - py(p.y)) < 12).length;
    const lx = right ? px(p.x) - 7 : px(p.x) + 7;
    const ly = py(p.y) - 6 - stack * 12;
    return `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="5" fill="${c}"/><text x="${lx}" y="${ly}" font-size="11"${right ? ' text-anchor="end"' : ''}>${escapeXml(p.label)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}"><text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text><line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#444"/><line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#444"/>${ticks.join('')}<text x="${(width + m.left) / 2}" y="${height - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}${options.logX ? ' (log scale)' : ''}</text><text x="16" y="${height / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${height / 2})">${escapeXml(yLabel)}</text>${dots.join('')}</svg>`;
}
