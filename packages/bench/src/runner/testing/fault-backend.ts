/**
 * A backend for runner tests that misbehaves on purpose inside the worker process: `crash` ends the process
 * abruptly while loading (as a native abort would), `hang` spins forever without yielding (as a stuck native call
 * would), `throw` fails with an error. Any other mode is core's reference backend.
 */
import { type Backend, BackendError } from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';

export function createFaultBackend(settings: { mode?: string }): Backend {
  const reference = createReferenceBackend();
  return {
    specificationVersion: reference.specificationVersion,
    name: `fault-${settings.mode ?? 'none'}`,
    capabilities: reference.capabilities,
    async load(input, options) {
      if (settings.mode === 'crash') process.kill(process.pid, 'SIGKILL');
      if (settings.mode === 'hang') for (;;) {}
      if (settings.mode === 'throw') throw new BackendError('fault backend: load failed on purpose');
      return reference.load(input, options);
    },
    dispose: () => reference.dispose(),
  };
}
