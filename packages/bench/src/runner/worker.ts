/**
 * Entry of the child process that runs one cell (forked by child-process.ts). Protocol over IPC:
 * child -> `{type:'ready'}`; parent -> `{type:'run', cell, prepareOnly?}`; child -> `{type:'result', outcome}`, then
 * exits. With `prepareOnly` the child only opens the cell's model (generating / converting it into the cache) and
 * closes it, measuring nothing.
 * A crash or hang shows up in the parent as an exit without a result, or a timeout.
 */
import type { Cell } from '../suite/suite-types.js';
import { openSubject } from './open-subject.js';
import { type CellOutcome, runCell } from './run-cell.js';

interface RunMessage {
  type: 'run';
  cell: Cell;
  prepareOnly?: boolean;
}

async function prepareCell(cell: Cell, signal: AbortSignal): Promise<CellOutcome> {
  const opened = await openSubject(cell, signal);
  await opened.subject.dispose();
  return {
    model: cell.model.id,
    backend: cell.backend.id,
    scenario: cell.scenario.id,
    scenarioType: cell.scenario.type,
    status: 'ok',
    metrics: {},
  };
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
  (message.prepareOnly ? prepareCell(message.cell, controller.signal) : runCell(message.cell, controller.signal))
    .then((outcome) => send({ type: 'result', outcome }))
    .catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }))
    .finally(() => {
      process.disconnect?.();
      // Runtimes may keep handles open (thread pools); the result is sent, so leave now.
      setTimeout(() => process.exit(0), 50).unref();
    });
});

void send({ type: 'ready' });
