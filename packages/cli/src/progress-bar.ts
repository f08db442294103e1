/**
 * A one-line progress display on stderr. On a terminal it redraws in place; otherwise it prints a line at most every
 * `quietIntervalMs` so logs stay readable. stdout is never touched.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WritableStream;
  readonly #interactive: boolean;
  readonly #label: string;
  readonly #quietIntervalMs: number;
  #lastDraw = 0;
  #lastLine = '';
  #started = performance.now();

  constructor(
    stream: NodeJS.WritableStream,
    label: string,
    options: { interactive: boolean; quietIntervalMs?: number },
  ) {
    this.#stream = stream;
    this.#label = label;
    this.#interactive = options.interactive;
    this.#quietIntervalMs = options.quietIntervalMs ?? 5000;
  }

  /** `fraction` in 0..1 (or undefined when unknown); `detail` is free text such as "1.2 MB/s, loss 3.1". */
  update(fraction: number | undefined, detail = ''): void {
    const now = performance.now();
    const interval = this.#interactive ? 100 : this.#quietIntervalMs;
    if (now - this.#lastDraw < interval && fraction !== 1) return;
    this.#lastDraw = now;
    const line = this.#format(fraction, detail, now);
    if (this.#interactive) this.#stream.write(`\r\x1b[2K${line}`);
    else if (line !== this.#lastLine) this.#stream.write(`${line}\n`);
    this.#lastLine = line;
  }

  done(detail = ''): void {
    const line = this.#format(1, detail, performance.now());
    this.#stream.write(this.#interactive ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  #format(fraction: number | undefined, detail: string, now: number): string {
    const elapsed = (now - this.#started) / 1000;
    if (fraction === undefined) return `${this.#label} ${elapsed.toFixed(1)}s ${detail}`.trimEnd();
    const f = Math.max(0, Math.min(1, fraction));
    const width = 24;
    const filled = Math.round(f * width);
    const eta = f > 0 && f < 1 ? ` ETA ${((elapsed / f) * (1 - f)).toFixed(0)}s` : '';
    return `${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(1)}%${eta} ${detail}`.trimEnd();
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}
