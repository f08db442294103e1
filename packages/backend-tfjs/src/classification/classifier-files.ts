import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLASSIFIER_HEAD_FILE,
  type ClassifierHead,
  classifierHeadToJson,
  type ModelData,
  modelDataToGguf,
  parseClassifierHeadJson,
  validateClassifierHead,
} from '@slmkit/core';
import { loadModelData, writeGgufFile, writeHfFolder } from '@slmkit/core/node';

export interface SaveClassifierOptions {
  /** Also write the backbone as `model.gguf` (for llama.cpp). Default false. */
  gguf?: boolean;
}

export interface SavedClassifierPaths {
  dir: string;
  head: string;
  gguf?: string;
}

/**
 * Saves a classifier as a Hugging Face Llama folder (config.json, model.safetensors, tokenizer.json: the backbone,
 * through core's writers) plus `classifier-head.json` (the head, run by core on any backend that can embed), and
 * optionally `model.gguf`.
 */
export async function saveClassifier(
  dir: string,
  classifier: { data: ModelData; head: ClassifierHead & { maxLength?: number } },
  options: SaveClassifierOptions = {},
): Promise<SavedClassifierPaths> {
  validateClassifierHead(classifier.head, classifier.data.spec.dim);
  await writeHfFolder(dir, classifier.data);
  const head = join(dir, CLASSIFIER_HEAD_FILE);
  await writeFile(head, classifierHeadToJson(classifier.head, { maxLength: classifier.head.maxLength }));
  if (!options.gguf) return { dir, head };
  const gguf = join(dir, 'model.gguf');
  await writeGgufFile(gguf, modelDataToGguf(classifier.data));
  return { dir, head, gguf };
}

/** Loads a classifier saved by `saveClassifier` (backbone from `backbonePath`, default the folder itself). */
export async function loadClassifier(
  dir: string,
  backbonePath = dir,
): Promise<{ data: ModelData; head: ClassifierHead & { maxLength?: number } }> {
  const headFile = join(dir, CLASSIFIER_HEAD_FILE);
  const head = parseClassifierHeadJson(await readFile(headFile, 'utf8'), headFile);
  const data = await loadModelData(backbonePath);
  validateClassifierHead(head, data.spec.dim);
  return { data, head };
}
