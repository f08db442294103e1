import { type Backend, InvalidArgumentError } from '@slmkit/core';

export interface BackendSettings {
  threads?: number;
}

type BackendFactory = (settings: BackendSettings) => Promise<Backend>;

/**
 * Backends the CLI can run, by `--backend` name. Each is imported only when chosen, so a command never loads a
 * runtime it does not use. Add one entry per backend package.
 */
const factories: Record<string, BackendFactory> = {
  reference: async () => {
    const { createReferenceBackend } = await import('@slmkit/core/testing');
    return createReferenceBackend();
  },
  tfjs: async () => {
    const { createTfjsBackend } = await import('@slmkit/backend-tfjs');
    return createTfjsBackend();
  },
  llamacpp: async (settings) => {
    const { createLlamaCppBackend } = await import('@slmkit/backend-llamacpp');
    return createLlamaCppBackend({ threads: settings.threads });
  },
  onnx: async (settings) => {
    const { createOnnxBackend } = await import('@slmkit/backend-onnx');
    return createOnnxBackend({ threads: settings.threads });
  },
  tinyjs: async () => {
    const { createTinyLlamaBackend } = await import('@slmkit/demo');
    return createTinyLlamaBackend();
  },
  // (new backends: one entry each, above this comment)
};

/** llama.cpp is the fastest runtime on CPUs; the reference backend stays available as `--backend reference`. */
export const DEFAULT_BACKEND = 'llamacpp';

export function backendNames(): string[] {
  return Object.keys(factories);
}

export async function createBackend(name: string, settings: BackendSettings = {}): Promise<Backend> {
  const factory = factories[name];
  if (!factory) {
    throw new InvalidArgumentError(`unknown backend "${name}"; choose one of: ${backendNames().join(', ')}`, {
      field: '--backend',
      value: name,
    });
  }
  return factory(settings);
}
