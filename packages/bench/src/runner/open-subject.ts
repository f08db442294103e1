import { type ModelData, parameterCount, UnsupportedFeatureError } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { NodeLlamaCppPeer } from '../peers/node-llama-cpp-peer.js';
import { TransformersJsPeer } from '../peers/transformers-js-peer.js';
import type { Cell, ModelEntry } from '../suite/suite-types.js';
import { createModuleBackend, createNamedBackend } from './backend-table.js';
import { LoadedModelSubject } from './loaded-model-subject.js';
import { ggufFor, pathBytes, prepareInput, randomModelData } from './model-source.js';
import type { BenchSubject } from './subject.js';

export interface OpenedSubject {
  subject: BenchSubject;
  parameters?: number;
  fileBytes?: number;
}

/** Context a cell needs: enough for its scenario (speed: longest prompt + output). */
export function contextSizeFor(cell: Cell): number | undefined {
  const s = cell.scenario;
  if (s.type === 'speed') return Math.max(...(s.promptTokens ?? [64])) + (s.outputTokens ?? 32) + 8;
  if (s.type === 'perplexity') return s.contextSize ?? 128;
  return undefined;
}

async function modelData(entry: ModelEntry, seed: number): Promise<ModelData> {
  if (entry.random) return randomModelData(entry, seed);
  if (!entry.path) throw new UnsupportedFeatureError(`model ${entry.id} has no path to convert from`);
  return loadModelData(entry.tokenizer ? { path: entry.path, tokenizerPath: entry.tokenizer } : entry.path);
}

/** Loads the cell's model on the cell's backend or peer (load time measured inside). */
export async function openSubject(cell: Cell, signal?: AbortSignal): Promise<OpenedSubject> {
  const { backend, model, settings } = cell;
  const threads = settings.threads;
  const contextSize = contextSizeFor(cell);
  switch (backend.kind ?? 'backend') {
    case 'node-llama-cpp': {
      const gguf = await ggufFor(model, cell.cacheDir, settings.seed, () => modelData(model, settings.seed));
      const subject = await NodeLlamaCppPeer.open(gguf, { threads, contextSize: contextSize ?? 512 });
      return { subject, fileBytes: await pathBytes(gguf) };
    }
    case 'transformers-js': {
      const folder = model.inputs?.[backend.id] ?? model.onnx;
      if (!folder)
        throw new UnsupportedFeatureError(`model ${model.id} has no ONNX folder (field "onnx") for transformers.js`);
      const subject = await TransformersJsPeer.open(folder, { threads });
      return { subject, fileBytes: await pathBytes(folder) };
    }
    case 'command':
      throw new UnsupportedFeatureError('command peers are run by runCommandCell');
    default:
      break;
  }
  // Converted models (GGUF, ONNX exports) go to the suite's cache folder unless the suite says otherwise.
  const cacheDir = `${cell.cacheDir}/${backend.kind === 'module' ? 'module' : ((backend.kind === undefined || backend.kind === 'backend') && backend.backend) || backend.id}`;
  const factorySettings = { threads, options: { cacheDir, ...('options' in backend ? backend.options : undefined) } };
  let name: string;
  let created: Promise<Awaited<ReturnType<typeof createNamedBackend>>>;
  if (backend.kind === 'module') {
    name = backend.id;
    created = createModuleBackend(backend.module, backend.export, factorySettings);
  } else if (backend.kind === 'remote') {
    name = 'remote';
    created = createNamedBackend('remote', {
      threads,
      options: { baseUrl: backend.baseUrl, ...(backend.apiKey ? { apiKey: backend.apiKey } : {}), ...backend.options },
    });
  } else {
    name = (backend.kind === undefined || backend.kind === 'backend') && backend.backend ? backend.backend : backend.id;
    created = createNamedBackend(name, factorySettings);
  }
  const instance = await created;
  try {
    const prepared = await prepareInput(model, backend.id, name, settings.seed, cell.cacheDir);
    const subject = await LoadedModelSubject.open(instance, prepared.input, {
      ...(threads ? { threads } : {}),
      ...(contextSize ? { contextSize } : {}),
      signal,
    });
    const parameters =
      prepared.parameters ?? (subject.model.spec.dim > 1 ? parameterCount(subject.model.spec) : undefined);
    return { subject, parameters, fileBytes: prepared.fileBytes };
  } catch (error) {
    await instance.dispose();
    throw error;
  }
}
