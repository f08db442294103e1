export interface CurvePoint {
  step: number;
  value: number;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

/** A self-contained SVG line chart of training (and validation) loss against step. */
export function lossCurveSvg(train: readonly CurvePoint[], val: readonly CurvePoint[], title = 'loss'): string {
  const width = 640;
  const height = 360;
  const pad = { left: 56, right: 16, top: 32, bottom: 40 };
  const all = [...train, ...val].filter((p) => Number.isFinite(p.value));
  const maxStep = Math.max(1, ...all.map((p) => p.step));
  const minV = all.length ? Math.min(...all.map((p) => p.value)) : 0;
  const maxV = all.length ? Math.max(...all.map((p) => p.value)) : 1;
  const span = maxV - minV || 1;
  const x = (s: number) => pad.left + (s / maxStep) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - minV) / span) * (height - pad.top - pad.bottom);
  const path = (points: readonly CurvePoint[]) =>
    points
      .filter((p) => Number.isFinite(p.value))
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`)
      .join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = minV + f * span;
    return `<text x="${pad.left - 6}" y="${y(v).toFixed(1)}" text-anchor="end" font-size="11" dominant-baseline="middle">${v.toFixed(3)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#444"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#444"/>`,
    ...ticks,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11">step (max ${maxStep})</text>`,
    `<path d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    `<path d="${path(val)}" fill="none" stroke="#d62728" stroke-width="2"/>`,
    `<text x="${width - pad.right}" y="${pad.top}" text-anchor="end" font-size="11" fill="#1f77b4">train</text>`,
    `<text x="${width - pad.right}" y="${pad.top + 14}" text-anchor="end" font-size="11" fill="#d62728">validation</text>`,
    '</svg>',
    '',
  ].join('\n');
}
