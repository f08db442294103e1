import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, ModelFormatError } from '@slmkit/core';
import { findSharedDir } from '@slmkit/core/testing/shared';
import {
  type BackendEntry,
  type Cell,
  type CellFilter,
  DEFAULT_RUN_SETTINGS,
  type ModelEntry,
  type RunSettings,
  type ScenarioEntry,
  type Suite,
} from './suite-types.js';

const SCENARIO_TYPES = new Set(['speed', 'perplexity', 'generate', 'choice', 'classify']);
const BACKEND_KINDS = new Set([
  'backend',
  'module',
  'remote',
  'node-llama-cpp',
  'transformers-js',
  'command',
  'lexicon',
  'tfjs-classifier',
]);
/** Backend kinds that only run classify scenarios. */
const CLASSIFY_ONLY_KINDS = new Set(['lexicon', 'tfjs-classifier']);

function fail(file: string, field: string, message: string, value?: unknown): never {
  throw new InvalidArgumentError(message, { file, field, value });
}

function checkIds(file: string, list: readonly { id?: unknown }[], what: string): void {
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    if (typeof entry?.id !== 'string' || entry.id === '')
      fail(file, `${what}[${i}].id`, 'must be a non-empty string', entry?.id);
    if (seen.has(entry.id)) fail(file, `${what}[${i}].id`, `duplicate id "${entry.id}"`, entry.id);
    seen.add(entry.id);
  });
}

/** Checks the shape of a parsed suite; throws InvalidArgumentError naming the file and field at fault. */
export function validateSuite(value: unknown, file = '<suite>'): Suite {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(file, '', 'a suite must be a JSON object');
  const suite = value as Partial<Suite>;
  if (typeof suite.name !== 'string') fail(file, 'name', 'must be a string', suite.name);
  for (const key of ['models', 'backends', 'scenarios'] as const) {
    if (!Array.isArray(suite[key]) || suite[key].length === 0) fail(file, key, 'must be a non-empty array', suite[key]);
  }
  const s = suite as Suite;
  checkIds(file, s.models, 'models');
  checkIds(file, s.backends, 'backends');
  checkIds(file, s.scenarios, 'scenarios');
  s.models.forEach((m, i) => {
    if (
      m.path === undefined &&
      m.random === undefined &&
      m.gguf === undefined &&
      m.onnx === undefined &&
      m.remoteModel === undefined
    ) {
      fail(file, `models[${i}]`, 'needs one of path, gguf, onnx, random or remoteModel');
    }
  });
  s.backends.forEach((b, i) => {
    const kind = b.kind ?? 'backend';
    if (!BACKEND_KINDS.has(kind))
      fail(file, `backends[${i}].kind`, `must be one of ${[...BACKEND_KINDS].join(', ')}`, kind);
    if (b.kind === 'command' && (!Array.isArray(b.command) || b.command.length === 0)) {
      fail(file, `backends[${i}].command`, 'must be a non-empty argv array', b.command);
    }
    if (b.kind === 'module' && typeof b.module !== 'string')
      fail(file, `backends[${i}].module`, 'must be a path', b.module);
    if (b.kind === 'remote' && typeof b.baseUrl !== 'string')
      fail(file, `backends[${i}].baseUrl`, 'must be a URL', b.baseUrl);
    if (b.kind === 'lexicon' && b.lexicon !== 'vader' && b.lexicon !== 'afinn')
      fail(file, `backends[${i}].lexicon`, 'must be vader or afinn', b.lexicon);
  });
  s.scenarios.forEach((sc, i) => {
    if (!SCENARIO_TYPES.has(sc.type))
      fail(file, `scenarios[${i}].type`, `must be one of ${[...SCENARIO_TYPES].join(', ')}`, sc.type);
    if (sc.type === 'classify' && (typeof sc.file !== 'string' || sc.file === ''))
      fail(file, `scenarios[${i}].file`, 'a classify scenario needs a labelled TSV file', sc.file);
  });
  if (s.settings !== undefined) {
    for (const [key, v] of Object.entries(s.settings)) {
      if (key === 'agreementReference') continue;
      if (typeof v !== 'number' || !(v >= 0)) fail(file, `settings.${key}`, 'must be a number >= 0', v);
    }
  }
  return s;
}

/** Expands `${shared}` (../shared, or undefined when absent) and `${suite}` (the suite's folder) in a path. */
const SHARED_TOKEN = ['$', '{shared}'].join('');
const SUITE_TOKEN = ['$', '{suite}'].join('');

export function expandPath(path: string, suiteDir: string): string | undefined {
  let out = path;
  if (out.includes(SHARED_TOKEN)) {
    const shared = findSharedDir();
    if (shared === undefined) return undefined;
    out = out.replaceAll(SHARED_TOKEN, shared);
  }
  return resolve(suiteDir, out.replaceAll(SUITE_TOKEN, suiteDir));
}

export interface LoadedSuite {
  suite: Suite;
  file: string;
  dir: string;
}

export async function readSuite(file: string): Promise<LoadedSuite> {
  const path = resolve(file);
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new InvalidArgumentError('cannot read the suite file', { file: path, field: '--suite', cause: error });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError(`not valid JSON: ${(error as Error).message}`, { file: path, cause: error });
  }
  return { suite: validateSuite(parsed, path), file: path, dir: dirname(path) };
}

export interface SkippedCell {
  model: string;
  backend: string;
  scenario: string;
  reason: string;
}

function matches(filter: CellFilter, model: ModelEntry, backend: BackendEntry, scenario: ScenarioEntry): boolean {
  return (
    (filter.model === undefined || filter.model === model.id) &&
    (filter.backend === undefined || filter.backend === backend.id) &&
    (filter.scenario === undefined || filter.scenario === scenario.id)
  );
}

const PATH_FIELDS = ['path', 'tokenizer', 'gguf', 'onnx', 'head'] as const;

/** Resolves a model entry's paths; returns a reason string when one of them needs ../shared and it is absent. */
function resolveModel(model: ModelEntry, dir: string): ModelEntry | string {
  const out: ModelEntry = { ...model };
  for (const field of PATH_FIELDS) {
    const value = model[field];
    if (value === undefined) continue;
    const expanded = expandPath(value, dir);
    if (expanded === undefined) return `${model.id}.${field} needs ../shared, which is absent`;
    out[field] = expanded;
  }
  if (model.inputs) {
    out.inputs = {};
    for (const [k, v] of Object.entries(model.inputs)) {
      const expanded = expandPath(v, dir);
      if (expanded === undefined) return `${model.id}.inputs.${k} needs ../shared, which is absent`;
      out.inputs[k] = expanded;
    }
  }
  return out;
}

function resolveScenario(scenario: ScenarioEntry, dir: string): ScenarioEntry | string {
  if (scenario.type === 'classify') {
    const expanded = expandPath(scenario.file, dir);
    if (expanded === undefined) return `scenario ${scenario.id}.file needs ../shared, which is absent`;
    return { ...scenario, file: expanded };
  }
  if ((scenario.type === 'perplexity' && scenario.textFile) || (scenario.type === 'choice' && scenario.file)) {
    const key = scenario.type === 'perplexity' ? 'textFile' : 'file';
    const raw = scenario.type === 'perplexity' ? scenario.textFile : scenario.file;
    const expanded = expandPath(raw as string, dir);
    if (expanded === undefined) return `scenario ${scenario.id}.${key} needs ../shared, which is absent`;
    return { ...scenario, [key]: expanded } as ScenarioEntry;
  }
  return scenario;
}

/** Why a backend kind cannot run a scenario type (peers only time generation), or undefined when it can. */
export function incompatibility(backend: BackendEntry, scenario: ScenarioEntry): string | undefined {
  const kind = backend.kind ?? 'backend';
  if (CLASSIFY_ONLY_KINDS.has(kind) && scenario.type !== 'classify')
    return `${kind} backends run classify scenarios only`;
  if (scenario.type === 'classify' && kind !== 'backend' && kind !== 'module' && !CLASSIFY_ONLY_KINDS.has(kind))
    return `${kind} peers cannot run classify scenarios`;
  if (
    (kind === 'command' || kind === 'transformers-js' || kind === 'node-llama-cpp') &&
    scenario.type !== 'speed' &&
    scenario.type !== 'generate'
  ) {
    return `${kind} peers run speed and generate scenarios only`;
  }
  if (kind === 'command' && scenario.type === 'generate') return 'command peers report timings only';
  return undefined;
}

/** Models x backends x scenarios, minus excluded and impossible cells (returned with their reasons). */
export function expandCells(
  loaded: LoadedSuite,
  cacheDir: string,
  overrides: Partial<RunSettings> = {},
): { cells: Cell[]; skipped: SkippedCell[] } {
  const { suite, dir } = loaded;
  const settings: RunSettings = { ...DEFAULT_RUN_SETTINGS, ...suite.settings, ...overrides };
  const cells: Cell[] = [];
  const skipped: SkippedCell[] = [];
  for (const rawModel of suite.models) {
    const model = resolveModel(rawModel, dir);
    for (const backend of suite.backends) {
      for (const rawScenario of suite.scenarios) {
        const ids = { model: rawModel.id, backend: backend.id, scenario: rawScenario.id };
        const scenario = resolveScenario(rawScenario, dir);
        const excluded = suite.exclude?.find((f) => matches(f, rawModel, backend, rawScenario));
        const notOnly = suite.only !== undefined && !suite.only.some((f) => matches(f, rawModel, backend, rawScenario));
        const reason =
          typeof model === 'string'
            ? model
            : typeof scenario === 'string'
              ? scenario
              : excluded
                ? (excluded.reason ?? 'excluded by the suite')
                : notOnly
                  ? undefined
                  : incompatibility(backend, scenario);
        if (notOnly && reason === undefined) continue;
        if (reason !== undefined || typeof model === 'string' || typeof scenario === 'string') {
          skipped.push({ ...ids, reason: reason ?? 'skipped' });
          continue;
        }
        cells.push({ index: cells.length, model, backend, scenario, settings, cacheDir });
      }
    }
  }
  return { cells, skipped };
}
