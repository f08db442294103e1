import { pathToFileURL } from 'node:url';
import { type Backend, InvalidArgumentError, NotFoundError, SlmError } from '@slmkit/core';

export interface BackendFactorySettings {
  threads?: number;
  options?: Record<string, unknown>;
}

type Module = Record<string, unknown>;

/** Packages of slmkit's backends and the factory names they may export (first found wins). */
const PACKAGES: Record<string, { load: () => Promise<Module>; factories: string[] }> = {
  reference: {
    load: async () => (await import('@slmkit/core/testing')) as Module,
    factories: ['createReferenceBackend'],
  },
  llamacpp: {
    load: async () => (await import('@slmkit/backend-llamacpp')) as Module,
    factories: ['createLlamaCppBackend', 'createLlamacppBackend', 'createLlamaBackend'],
  },
  onnx: {
    load: async () => (await import('@slmkit/backend-onnx')) as Module,
    factories: ['createOnnxBackend', 'createOnnxRuntimeBackend'],
  },
  tfjs: {
    load: async () => (await import('@slmkit/backend-tfjs')) as Module,
    factories: ['createTfjsBackend', 'createTfJsBackend'],
  },
  remote: { load: async () => (await import('@slmkit/backend-remote')) as Module, factories: ['createRemoteBackend'] },
};

function isBackend(value: unknown): value is Backend {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Backend).load === 'function' &&
    typeof (value as Backend).name === 'string'
  );
}

function pickFactory(
  module: Module,
  preferred: readonly string[],
  where: string,
): (settings: Record<string, unknown>) => unknown {
  for (const name of preferred)
    if (typeof module[name] === 'function') return module[name] as (s: Record<string, unknown>) => unknown;
  const found = Object.keys(module).find((k) => /^create\w*Backend$/.test(k) && typeof module[k] === 'function');
  if (found) return module[found] as (s: Record<string, unknown>) => unknown;
  throw new NotFoundError(`exports no backend factory (looked for ${preferred.join(', ')} or any create*Backend)`, {
    file: where,
  });
}

async function instantiate(
  factory: (s: Record<string, unknown>) => unknown,
  settings: BackendFactorySettings,
  where: string,
): Promise<Backend> {
  const backend = await factory({
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    ...settings.options,
  });
  if (!isBackend(backend))
    throw new SlmError('BACKEND', `${where}: the factory did not return a Backend`, { file: where });
  return backend;
}

/** Names of slmkit's own backends that bench knows. */
export function knownBackendNames(): string[] {
  return Object.keys(PACKAGES);
}

/** Creates one of slmkit's backends by name (imported only when asked for). */
export async function createNamedBackend(name: string, settings: BackendFactorySettings = {}): Promise<Backend> {
  const entry = PACKAGES[name];
  if (!entry) {
    throw new InvalidArgumentError(`unknown backend "${name}"; known: ${knownBackendNames().join(', ')}`, {
      field: 'backend',
      value: name,
    });
  }
  const module = await entry.load();
  return instantiate(pickFactory(module, entry.factories, `@slmkit/backend-${name}`), settings, name);
}

/** Creates a backend from any module that exports a factory (a third-party backend, or a test fixture). */
export async function createModuleBackend(
  path: string,
  exportName: string | undefined,
  settings: BackendFactorySettings = {},
): Promise<Backend> {
  const module = (await import(pathToFileURL(path).href)) as Module;
  const factory = exportName ? module[exportName] : undefined;
  if (exportName && typeof factory !== 'function')
    throw new NotFoundError(`exports no function "${exportName}"`, { file: path });
  return instantiate(
    (factory as (s: Record<string, unknown>) => unknown) ?? pickFactory(module, [], path),
    settings,
    path,
  );
}
