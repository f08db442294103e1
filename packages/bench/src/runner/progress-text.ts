import type { RunnerEvent } from './runner.js';

function pad(n: number, total: number): string {
  return String(n).padStart(String(total).length, ' ');
}

/** One stderr line per runner event: `[ 3/12] stories260K × llamacpp × speed ... ok (4.2 s)`. */
export function progressLine(event: RunnerEvent): string | undefined {
  switch (event.type) {
    case 'start':
      return `bench: ${event.total} cells to run${event.skipped.length ? `, ${event.skipped.length} skipped` : ''}`;
    case 'server':
      return `bench: server ${event.id} ${event.status}${event.error ? `: ${event.error}` : ''}`;
    case 'cell-start':
      return `[${pad(event.index + 1, event.total)}/${event.total}] ${event.cell.model.id} × ${event.cell.backend.id} × ${event.cell.scenario.id} ...`;
    case 'cell-prepared':
      return `[${pad(event.index + 1, event.total)}/${event.total}] prepared ${event.cell.model.id} for ${event.cell.backend.id} (${(event.wallMs / 1000).toFixed(1)} s${event.error ? `, failed: ${event.error}` : ''})`;
    case 'cell-end': {
      const r = event.result;
      const secs = (r.wallMs / 1000).toFixed(1);
      const head = `[${pad(event.index + 1, event.total)}/${event.total}] ${r.model} × ${r.backend} × ${r.scenario}`;
      if (r.status !== 'ok') return `${head}: FAILED (${secs} s): ${r.error ?? ''}`;
      const tg = Object.entries(r.metrics).find(([k]) => /^tg\d+_tps$/.test(k));
      const extra = tg
        ? `, ${tg[1].toFixed(0)} tok/s decode`
        : r.metrics.ppl !== undefined
          ? `, ppl ${r.metrics.ppl.toFixed(4)}`
          : r.metrics.acc !== undefined
            ? `, acc ${r.metrics.acc.toFixed(3)}`
            : '';
      return `${head}: ok (${secs} s${extra})`;
    }
  }
}
