/** A Markdown table; numeric columns (every non-empty cell starts with a digit or sign) right-aligned, text left. */
export function table(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const numeric = header.map((_, i) => rows.every((r) => r[i] === '' || /^[-+]?\d/.test(r[i])));
  const lines = [`| ${header.join(' | ')} |`, `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(esc).join(' | ')} |`);
  return lines.join('\n');
}
