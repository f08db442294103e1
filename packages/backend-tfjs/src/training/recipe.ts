import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type ModelSpec, NotFoundError, parameterCount, throwIfAborted } from '@slmkit/core';
import { loadTokenizerFile } from '@slmkit/core/node';
import { readDatasetDocuments } from '../data/dataset-files.js';
import { prepareDataset } from '../data/prepare-dataset.js';
import type { TfjsKernelBackend } from '../tfjs-runtime.js';
import { saveTrainedTokenizer } from '../tokenizer-training/save-tokenizer.js';
import type { TrainedTokenizerKind } from '../tokenizer-training/tokenizer-json.js';
import { trainTokenizer } from '../tokenizer-training/train-tokenizer.js';
import { exportTrainedModel, tokenizeDatasetFile } from './train-files.js';
import { specFromPreset, TRAIN_PRESETS, type TrainPreset, type TrainPresetName } from './train-presets.js';
import { type TrainConfig, type TrainProgress, type TrainResult, trainModel } from './trainer.js';

/** A committed, reproducible way to make a model: data, tokenizer, architecture, training. */
export interface TrainRecipe {
  name: string;
  description?: string;
  data: { inputs: string[]; valFraction?: number; splitSeed?: number };
  tokenizer: { kind: TrainedTokenizerKind; vocabSize: number };
  /** A preset name plus overrides of its fields. */
  model: { preset: TrainPresetName } & Partial<TrainPreset>;
  train: Partial<TrainConfig>;
}

/** Folder of the recipes shipped with this package. */
export function recipesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'recipes');
}

/** Reads a recipe by name (a shipped one, e.g. `default`) or path to a JSON file. */
export async function loadRecipe(nameOrPath: string): Promise<TrainRecipe> {
  const path = /[\\/]|\.json$/.test(nameOrPath) ? nameOrPath : join(recipesDir(), `${nameOrPath}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new NotFoundError(`recipe "${nameOrPath}" not found`, { file: path, field: '--recipe', cause: error });
  }
  const recipe = JSON.parse(text) as TrainRecipe;
  if (!recipe.model || !(recipe.model.preset in TRAIN_PRESETS)) {
    throw new InvalidArgumentError(
      `unknown preset "${recipe.model?.preset}"; choose one of ${Object.keys(TRAIN_PRESETS).join(', ')}`,
      { file: path, field: 'model.preset' },
    );
  }
  return recipe;
}

export type RecipeStage = 'data' | 'tokenizer' | 'tokenize' | 'train' | 'export';

export interface RunRecipeOptions {
  outDir: string;
  resume?: boolean;
  kernelBackend?: TfjsKernelBackend;
  /** Overrides of the recipe's training config (e.g. fewer steps). */
  trainOverrides?: Partial<TrainConfig>;
  signal?: AbortSignal;
  onStage?: (stage: RecipeStage, detail: string) => void;
  onProgress?: (progress: TrainProgress) => void;
}

export interface RecipeResult {
  result: TrainResult;
  spec: ModelSpec;
  hfFolder: string;
  gguf?: string;
  metricsPath: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Runs a recipe end to end in `outDir`: data/ (slm data), tokenizer/ (slm tokenizer train), training (checkpoint,
 * log, loss curve), then exports model/ (HF safetensors folder + tokenizer), model.gguf and metrics.json. With
 * `resume`, finished stages are reused and training continues from its checkpoint.
 */
export async function runRecipe(recipe: TrainRecipe, options: RunRecipeOptions): Promise<RecipeResult> {
  const { outDir, signal } = options;
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
  const dataDir = join(outDir, 'data');
  const trainFile = join(dataDir, 'train.txt');
  const valFile = join(dataDir, 'val.txt');
  if (!(options.resume && (await exists(trainFile)))) {
    options.onStage?.('data', recipe.data.inputs.join(', '));
    await prepareDataset({
      inputs: recipe.data.inputs,
      outDir: dataDir,
      valFraction: recipe.data.valFraction,
      splitSeed: recipe.data.splitSeed,
      signal,
    });
  }
  const tokenizerDir = join(outDir, 'tokenizer');
  if (!(options.resume && (await exists(join(tokenizerDir, 'tokenizer.json'))))) {
    options.onStage?.('tokenizer', `${recipe.tokenizer.kind} BPE, ${recipe.tokenizer.vocabSize} tokens`);
    const trained = await trainTokenizer(readDatasetDocuments(trainFile, signal), {
      kind: recipe.tokenizer.kind,
      vocabSize: recipe.tokenizer.vocabSize,
      signal,
    });
    await saveTrainedTokenizer(trained, tokenizerDir);
  }
  throwIfAborted(signal, 'recipe');
  const tokenizer = await loadTokenizerFile(join(tokenizerDir, 'tokenizer.json'));
  options.onStage?.('tokenize', 'train and val splits');
  const train = await tokenizeDatasetFile(trainFile, tokenizer, signal);
  const val = await tokenizeDatasetFile(valFile, tokenizer, signal);
  const { preset, ...overrides } = recipe.model;
  const spec: ModelSpec = {
    ...specFromPreset({ ...TRAIN_PRESETS[preset], ...overrides }, tokenizer.vocabSize, recipe.name),
    provenance: { description: recipe.description },
  };
  options.onStage?.('train', `${parameterCount(spec)} parameters, ${train.length} train / ${val.length} val tokens`);
  const result = await trainModel({
    spec,
    config: { ...recipe.train, ...options.trainOverrides },
    train,
    val,
    outDir,
    resume: options.resume && (await exists(join(outDir, 'checkpoint.safetensors'))),
    kernelBackend: options.kernelBackend,
    signal,
    onProgress: options.onProgress,
  });
  options.onStage?.('export', join(outDir, 'model'));
  const exported = await exportTrainedModel(outDir, { spec, weights: result.weights, tokenizer }, { signal });
  const metricsPath = join(outDir, 'metrics.json');
  const metrics = {
    recipe: recipe.name,
    parameters: result.parameters,
    steps: result.steps,
    trainTokens: train.length,
    valTokens: val.length,
    finalTrainLoss: result.finalLoss,
    finalValLoss: result.finalValLoss,
    bestValLoss: result.bestValLoss,
    valPerplexity: result.finalValLoss === null ? null : Math.exp(result.finalValLoss),
    stoppedEarly: result.stoppedEarly,
    trainTokensPerSecond: Math.round(result.tokensPerSecond),
  };
  await writeFile(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  return { result, spec, hfFolder: exported.hfFolder, gguf: exported.gguf, metricsPath };
}
