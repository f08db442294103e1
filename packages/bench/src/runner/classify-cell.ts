import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLASSIFIER_HEAD_FILE,
  NotFoundError,
  parameterCount,
  parseClassifierHeadJson,
  TextClassifier,
  UnsupportedFeatureError,
} from '@slmkit/core';
import { polarityLabel } from '../metrics/classification.js';
import { openLexiconPeer } from '../peers/lexicon-peers.js';
import type { Cell, ClassifyScenario } from '../suite/suite-types.js';
import { readClassifyRows, runClassify, type SentenceClassifier } from './classify-scenario.js';
import { pathBytes } from './model-source.js';
import { openSubject } from './open-subject.js';
import type { ScenarioOutput } from './scenarios.js';
import type { SubjectRuntime } from './subject.js';

export interface ClassifyCellOutput {
  output: ScenarioOutput & { predictions: string[] };
  runtime: SubjectRuntime;
  parameters?: number;
  fileBytes?: number;
}

interface OpenedClassifier {
  classifier: SentenceClassifier;
  runtime: SubjectRuntime;
  parameters?: number;
  fileBytes?: number;
  dispose(): Promise<void>;
}

function headPath(cell: Cell): string {
  const { model } = cell;
  if (model.head) return model.head;
  if (!model.path) throw new NotFoundError(`model ${model.id} has neither head nor path (classifier head JSON)`);
  return join(model.path, CLASSIFIER_HEAD_FILE);
}

async function readHead(cell: Cell) {
  const file = headPath(cell);
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new NotFoundError('cannot read the classifier head', { file, cause: error });
  });
  return parseClassifierHeadJson(text, file);
}

async function openLexicon(cell: Cell, kind: 'vader' | 'afinn'): Promise<OpenedClassifier> {
  const scenario = cell.scenario as ClassifyScenario;
  const started = performance.now();
  const peer = openLexiconPeer(kind);
  const positive = scenario.positiveLabel ?? '1';
  const negative = scenario.negativeLabel ?? '0';
  return {
    classifier: { classify: async (texts) => texts.map((t) => polarityLabel(peer.score(t), positive, negative)) },
    runtime: {
      backend: `${peer.name}@${peer.version}`,
      device: 'cpu',
      threads: 1,
      weightType: 'lexicon',
      loadMs: performance.now() - started,
      details: { rule: `${peer.rule} >= 0 -> ${positive}, else ${negative}`, batching: 'none: one text at a time' },
    },
    dispose: async () => {},
  };
}

async function openTfjsClassifier(cell: Cell): Promise<OpenedClassifier> {
  if (!cell.model.path) throw new NotFoundError(`model ${cell.model.id} has no path (an HF folder) for tfjs`);
  const started = performance.now();
  const tfjs = await import('@slmkit/backend-tfjs');
  const head = await readHead(cell);
  const { data } = await tfjs.loadClassifier(cell.model.path);
  const classifier = await tfjs.TfjsClassifier.create(data, head);
  const scenario = cell.scenario as ClassifyScenario;
  return {
    classifier: {
      classify: async (texts, signal) =>
        (await classifier.classify(texts, { batchSize: texts.length, signal })).map((p) => p.label),
    },
    runtime: {
      backend: 'tfjs-classifier',
      device: 'cpu (tfjs wasm)',
      threads: 1,
      weightType: 'f32',
      loadMs: performance.now() - started,
      details: {
        batching: `padded batches of ${scenario.batchSize ?? 32} texts in one forward pass (similar lengths grouped)`,
      },
    },
    parameters: parameterCount(data.spec) + head.weight.length + head.bias.length,
    fileBytes: await pathBytes(cell.model.path),
    dispose: async () => classifier.dispose(),
  };
}

async function openBackendClassifier(cell: Cell, signal?: AbortSignal): Promise<OpenedClassifier> {
  const head = await readHead(cell);
  const opened = await openSubject(cell, signal);
  const model = opened.subject.model;
  try {
    if (!model) throw new UnsupportedFeatureError(`${opened.subject.runtime.backend} gives no LoadedModel to embed`);
    if (!model.embed)
      throw new UnsupportedFeatureError(
        `the ${model.info.backend} backend cannot return embeddings (LoadedModel.embed)`,
      );
    const classifier = new TextClassifier(model, head);
    return {
      classifier: {
        classify: async (texts, signal) => (await classifier.classify(texts, { signal })).map((p) => p.label),
      },
      runtime: {
        ...opened.subject.runtime,
        details: {
          ...opened.subject.runtime.details,
          batching: 'core TextClassifier: LoadedModel.embed one text at a time (a batch is N texts per call)',
        },
      },
      parameters: parameterCount(model.spec) + head.weight.length + head.bias.length,
      fileBytes: opened.fileBytes,
      dispose: () => opened.subject.dispose(),
    };
  } catch (error) {
    await opened.subject.dispose();
    throw error;
  }
}

/** Runs a classify cell: a trained classifier on an slmkit backend, backend-tfjs's batched classifier, or a lexicon. */
export async function runClassifyCell(cell: Cell, signal?: AbortSignal): Promise<ClassifyCellOutput> {
  if (cell.scenario.type !== 'classify') throw new UnsupportedFeatureError('not a classify scenario');
  const rows = await readClassifyRows(cell.scenario);
  const { backend } = cell;
  const opened =
    backend.kind === 'lexicon'
      ? await openLexicon(cell, backend.lexicon)
      : backend.kind === 'tfjs-classifier'
        ? await openTfjsClassifier(cell)
        : await openBackendClassifier(cell, signal);
  try {
    const output = await runClassify(opened.classifier, cell.scenario, rows, signal);
    return { output, runtime: opened.runtime, parameters: opened.parameters, fileBytes: opened.fileBytes };
  } finally {
    await opened.dispose();
  }
}
