/**
 * Entry of the child process that runs one cell (forked by child-process.ts). Protocol over IPC:
 * child -> `{type:'ready'}`; parent -> `{type:'run', cell}`; child -> `{type:'result', outcome}`, then exits.
 * A crash or hang shows up in the parent as an exit without a result, or a timeout.
 */
import type { Cell } from '../suite/suite-types.js';
import { runCell } from './run-cell.js';

interface RunMessage {
  type: 'run';
  cell: Cell;
}

function send(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

const controller = new AbortController();
process.on('SIGTERM', () => controller.abort(new Error('terminated')));

process.once('message', (message: RunMessage) => {
  if (message?.type !== 'run') return;
  runCell(message.cell, controller.signal)
    .then((outcome) => send({ type: 'result', outcome }))
    .catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }))
    .finally(() => {
      process.disconnect?.();
      // Runtimes may keep handles open (thread pools); the result is sent, so leave now.
      setTimeout(() => process.exit(0), 50).unref();
    });
});

void send({ type: 'ready' });
