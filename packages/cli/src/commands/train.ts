import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, type ModelSpec, NotFoundError, type Tokenizer } from '@slmkit/core';
import type { CliCommand, CliIo, OptionSpec, ParsedValues } from '../cli-command.js';
import { booleanOption, numberOption, stringOption } from '../options.js';
import { ProgressBar } from '../progress-bar.js';

type Tfjs = typeof import('@slmkit/backend-tfjs');
type TrainConfig = import('@slmkit/backend-tfjs').TrainConfig;
type TrainProgress = import('@slmkit/backend-tfjs').TrainProgress;

/** Options `slm train`, `slm finetune` and `slm distill` share. */
export const trainingOptions: Record<string, OptionSpec> = {
  data: {
    type: 'string',
    description: 'folder written by `slm data` (train.txt|jsonl, val.txt|jsonl)',
    valueName: '<dir>',
  },
  train: { type: 'string', description: 'training split file (instead of --data)', valueName: '<file>' },
  val: { type: 'string', description: 'validation split file (instead of --data)', valueName: '<file>' },
  out: {
    type: 'string',
    description: 'output folder: checkpoint, train-log.jsonl, loss-curve.svg, model/ (required)',
    valueName: '<dir>',
  },
  config: {
    type: 'string',
    description: 'JSON file: { "preset"?, "model"?: {...}, "train"?: {steps, batchSize, ...} }',
    valueName: '<file>',
  },
  resume: {
    type: 'boolean',
    description: 'continue from the checkpoint in --out (exact: optimizer, data position, RNG)',
  },
  steps: { type: 'string', description: 'optimizer steps (overrides the config)', valueName: '<n>' },
  'batch-size': { type: 'string', description: 'windows per batch (default 32)', valueName: '<n>' },
  'seq-len': { type: 'string', description: 'tokens per window (default 128)', valueName: '<n>' },
  lr: { type: 'string', description: 'peak learning rate', valueName: '<x>' },
  seed: { type: 'string', description: 'seed of init and data order (default 1234)', valueName: '<n>' },
  device: { type: 'string', description: 'tfjs kernels: wasm (default) or cpu', valueName: '<name>' },
  json: { type: 'boolean', description: 'print the result as one JSON object' },
};

interface ConfigFile {
  preset?: string;
  model?: Record<string, unknown>;
  train?: Partial<TrainConfig>;
}

export async function readConfigFile(values: ParsedValues): Promise<ConfigFile> {
  const path = stringOption(values, 'config');
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError('is not a readable JSON file', { file: path, field: '--config', cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('must hold a JSON object', { file: path, field: '--config' });
  }
  return parsed as ConfigFile;
}

/** Training config from the config file's `train` plus command-line overrides. */
export function trainConfigFrom(values: ParsedValues, file: ConfigFile): Partial<TrainConfig> {
  const config: Partial<TrainConfig> = { ...file.train };
  const steps = numberOption(values, 'steps', { integer: true, min: 1 });
  const batchSize = numberOption(values, 'batch-size', { integer: true, min: 1 });
  const seqLen = numberOption(values, 'seq-len', { integer: true, min: 1 });
  const lr = numberOption(values, 'lr', { min: 0 });
  const seed = numberOption(values, 'seed', { integer: true, min: 0 });
  if (steps !== undefined) config.steps = steps;
  if (batchSize !== undefined) config.batchSize = batchSize;
  if (seqLen !== undefined) config.seqLen = seqLen;
  if (lr !== undefined) config.learningRate = lr;
  if (seed !== undefined) config.seed = seed;
  return config;
}

export function kernelFrom(values: ParsedValues): 'wasm' | 'cpu' | undefined {
  const device = stringOption(values, 'device');
  if (device === undefined) return undefined;
  if (device !== 'wasm' && device !== 'cpu')
    throw new InvalidArgumentError(`must be wasm or cpu, got "${device}"`, { field: '--device', value: device });
  return device;
}

export function requireOut(values: ParsedValues): string {
  const out = stringOption(values, 'out');
  if (!out)
    throw new InvalidArgumentError('is required: the folder for the checkpoint, log and model', { field: '--out' });
  return out;
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths)
    if (
      await stat(p).then(
        () => true,
        () => false,
      )
    )
      return p;
  return undefined;
}

/** The train / val split files from --data or --train/--val. */
export async function splitFiles(values: ParsedValues): Promise<{ train: string; val?: string }> {
  const dir = stringOption(values, 'data');
  if (dir) {
    const train = await firstExisting([join(dir, 'train.txt'), join(dir, 'train.jsonl')]);
    if (!train)
      throw new NotFoundError('holds no train.txt or train.jsonl (write it with `slm data`)', {
        file: dir,
        field: '--data',
      });
    return { train, val: await firstExisting([join(dir, 'val.txt'), join(dir, 'val.jsonl')]) };
  }
  const train = stringOption(values, 'train');
  if (!train) throw new InvalidArgumentError('give --data <dir> or --train <file>', { field: '--data' });
  return { train, val: stringOption(values, 'val') };
}

export async function tokenizeSplits(
  tfjs: Tfjs,
  files: { train: string; val?: string },
  tokenizer: Tokenizer,
  signal: AbortSignal,
) {
  const train = await tfjs.tokenizeDatasetFile(files.train, tokenizer, signal);
  const val = files.val ? await tfjs.tokenizeDatasetFile(files.val, tokenizer, signal) : undefined;
  return { train, val };
}

/** A stderr progress bar fed by trainModel's progress events. */
export function trainingProgress(
  io: CliIo,
  label: string,
): { onProgress: (p: TrainProgress) => void; bar: ProgressBar } {
  const bar = new ProgressBar(io.stderr, label, { interactive: io.interactive });
  let valLoss: number | undefined;
  return {
    bar,
    onProgress(p) {
      if (p.valLoss !== undefined) valLoss = p.valLoss;
      const val = valLoss === undefined ? '' : `, val ${valLoss.toFixed(3)}`;
      bar.update(
        p.step / p.totalSteps,
        `step ${p.step}/${p.totalSteps}, loss ${p.loss.toFixed(3)}${val}, ${p.tokensPerSecond.toFixed(0)} tok/s, ETA ${p.etaSeconds.toFixed(0)}s`,
      );
    },
  };
}

export function printResult(io: CliIo, values: ParsedValues, result: Record<string, unknown>): void {
  if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify(result)}\n`);
  else
    for (const [k, v] of Object.entries(result))
      io.stdout.write(`${k}: ${typeof v === 'number' ? Number(v.toFixed(4)) : String(v)}\n`);
}

export const command: CliCommand = {
  name: 'train',
  summary: 'pretrain a small Llama with tfjs (or run a recipe: data, tokenizer, training, export)',
  usage:
    'slm train --recipe default --out <dir> | slm train --data <dir> --tokenizer <tokenizer.json> --out <dir> [--preset 1m] [--config <json>] [--resume]',
  options: {
    ...trainingOptions,
    recipe: {
      type: 'string',
      description: 'run a recipe end to end: `default` or a recipe JSON file',
      valueName: '<name>',
    },
    tokenizer: {
      type: 'string',
      description: 'tokenizer (tokenizer.json or folder) from `slm tokenizer train`',
      valueName: '<path>',
    },
    preset: { type: 'string', description: 'model size: 0.3m, 1m (default), 3m, 10m, 30m', valueName: '<name>' },
  },
  async run(values, _positionals, io) {
    const tfjs = await import('@slmkit/backend-tfjs');
    const outDir = requireOut(values);
    const kernelBackend = kernelFrom(values);
    const file = await readConfigFile(values);
    const overrides = trainConfigFrom(values, file);
    const { onProgress, bar } = trainingProgress(io, 'train');
    const recipeName = stringOption(values, 'recipe');
    if (recipeName) {
      const recipe = await tfjs.loadRecipe(recipeName);
      const run = await tfjs.runRecipe(recipe, {
        outDir,
        resume: booleanOption(values, 'resume'),
        kernelBackend,
        trainOverrides: overrides,
        signal: io.signal,
        onStage: (stage, detail) => io.stderr.write(`${stage}: ${detail}\n`),
        onProgress,
      });
      bar.done(`loss ${run.result.finalLoss.toFixed(3)}`);
      printResult(io, values, {
        model: run.hfFolder,
        gguf: run.gguf ?? '',
        metrics: run.metricsPath,
        steps: run.result.steps,
        finalLoss: run.result.finalLoss,
        valLoss: run.result.finalValLoss ?? Number.NaN,
        tokensPerSecond: run.result.tokensPerSecond,
      });
      return 0;
    }
    const tokenizerPath = stringOption(values, 'tokenizer');
    if (!tokenizerPath) throw new InvalidArgumentError('is required (or use --recipe)', { field: '--tokenizer' });
    const { loadTokenizerFile } = await import('@slmkit/core/node');
    const tokenizer = await loadTokenizerFile(tokenizerPath);
    const { train, val } = await tokenizeSplits(tfjs, await splitFiles(values), tokenizer, io.signal);
    const presetName = stringOption(values, 'preset') ?? file.preset ?? '1m';
    if (!(presetName in tfjs.TRAIN_PRESETS)) {
      throw new InvalidArgumentError(`unknown preset; choose one of ${Object.keys(tfjs.TRAIN_PRESETS).join(', ')}`, {
        field: '--preset',
        value: presetName,
      });
    }
    const preset = tfjs.TRAIN_PRESETS[presetName as keyof typeof tfjs.TRAIN_PRESETS];
    const spec: ModelSpec = tfjs.specFromPreset(
      { ...preset, ...(file.model as object) } as typeof preset,
      tokenizer.vocabSize,
      'slmkit-model',
    );
    io.stderr.write(
      `training ${spec.name}: preset ${presetName}, ${train.length} train tokens${val ? `, ${val.length} val tokens` : ''}\n`,
    );
    const result = await tfjs.trainModel({
      spec,
      config: overrides,
      train,
      val,
      outDir,
      resume: booleanOption(values, 'resume'),
      kernelBackend,
      signal: io.signal,
      onProgress,
    });
    bar.done(`loss ${result.finalLoss.toFixed(3)}`);
    const exported = await tfjs.exportTrainedModel(
      outDir,
      { spec, weights: result.weights, tokenizer },
      { signal: io.signal },
    );
    printResult(io, values, {
      model: exported.hfFolder,
      gguf: exported.gguf ?? '',
      checkpoint: result.checkpointPath,
      log: result.logPath,
      curve: result.curvePath,
      steps: result.steps,
      finalLoss: result.finalLoss,
      valLoss: result.finalValLoss ?? Number.NaN,
      tokensPerSecond: result.tokensPerSecond,
    });
    return 0;
  },
};
