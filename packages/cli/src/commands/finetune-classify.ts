import { readFile } from 'node:fs/promises';
import {
  InvalidArgumentError,
  type ModelData,
  type ModelSpec,
  parseLabelledTsv,
  parseTokenizerJson,
  type Tokenizer,
} from '@slmkit/core';
import type { CliIo, OptionSpec, ParsedValues } from '../cli-command.js';
import { booleanOption, numberOption, stringListOption, stringOption } from '../options.js';
import { kernelFrom } from './train.js';

/**
 * `slm finetune --task classify`: trains a text classifier (Llama backbone + mean pooling + linear head) on a
 * `sentence<TAB>label` TSV with tfjs, head-only or full, from a base model (--model) or from scratch (a tokenizer is
 * trained on the data), optionally distilled from a saved teacher classifier (--teacher). Saves an HF folder +
 * classifier-head.json (+ model.gguf with --gguf) to --out; prints the dev accuracy when --val is given.
 */
export const classifyFinetuneOptions: Record<string, OptionSpec> = {
  task: {
    type: 'string',
    description: 'what to fine-tune for: lm (default) or classify (--data is then a TSV)',
    valueName: '<task>',
  },
  mode: {
    type: 'string',
    description: 'classify: head (train the head on a frozen backbone) or full (default)',
    valueName: '<mode>',
  },
  epochs: { type: 'string', description: 'classify: passes over the data (default 1)', valueName: '<n>' },
  labels: {
    type: 'string',
    multiple: true,
    description: 'classify: label order of the head (default: the sorted labels of the data)',
    valueName: '<label>',
  },
  'max-length': {
    type: 'string',
    description: 'classify: tokens per text; longer ones are truncated with a warning (default 64)',
    valueName: '<n>',
  },
  dim: { type: 'string', description: 'classify from scratch: hidden size (default 64)', valueName: '<n>' },
  layers: { type: 'string', description: 'classify from scratch: layers (default 2)', valueName: '<n>' },
  'vocab-size': {
    type: 'string',
    description: 'classify from scratch: tokenizer vocabulary trained on the data (default 4096)',
    valueName: '<n>',
  },
  teacher: {
    type: 'string',
    description: 'classify: a saved classifier folder to distil from (soft labels)',
    valueName: '<dir>',
  },
  temperature: { type: 'string', description: 'classify distillation temperature (default 2)', valueName: '<t>' },
  alpha: {
    type: 'string',
    description: 'classify distillation: weight of the soft-label term (default 0.7)',
    valueName: '<x>',
  },
  gguf: { type: 'boolean', description: 'classify: also write the backbone as model.gguf' },
};

async function readTsv(path: string, labels?: string[]) {
  return parseLabelledTsv(await readFile(path, 'utf8'), { file: path, labels });
}

export async function runClassifyFinetune(values: ParsedValues, io: CliIo): Promise<number> {
  const tfjs = await import('@slmkit/backend-tfjs');
  const dataPath = stringOption(values, 'data') ?? stringOption(values, 'train');
  if (!dataPath)
    throw new InvalidArgumentError('is required: the labelled TSV (sentence<TAB>label)', { field: '--data' });
  const out = stringOption(values, 'out');
  if (!out) throw new InvalidArgumentError('is required: the folder for the classifier', { field: '--out' });
  const labelList = stringListOption(values, 'labels');
  const rows = await readTsv(dataPath);
  const mode = stringOption(values, 'mode') ?? 'full';
  if (mode !== 'full' && mode !== 'head')
    throw new InvalidArgumentError(`must be head or full, got "${mode}"`, { field: '--mode', value: mode });
  const device = kernelFrom(values);
  const maxLength = numberOption(values, 'max-length', { integer: true, min: 1 }) ?? 64;
  const warn = (m: string) => io.stderr.write(`warning: ${m}\n`);

  let backbone: ModelData | { spec: ModelSpec; tokenizer: Tokenizer };
  const modelPath = stringOption(values, 'model');
  const teacherDir = stringOption(values, 'teacher');
  const teacher = teacherDir ? await tfjs.loadClassifier(teacherDir) : undefined;
  if (modelPath) {
    const { loadModelData } = await import('@slmkit/core/node');
    const tokenizerPath = stringOption(values, 'tokenizer');
    backbone = await loadModelData(tokenizerPath ? { path: modelPath, tokenizerPath } : modelPath);
  } else {
    if (mode === 'head')
      throw new InvalidArgumentError('head-only training needs --model (a trained backbone)', { field: '--mode' });
    let tokenizer: Tokenizer;
    if (teacher) tokenizer = teacher.data.tokenizer;
    else {
      const vocabSize = numberOption(values, 'vocab-size', { integer: true, min: 300 }) ?? 4096;
      const trained = await tfjs.trainTokenizer(
        rows.map((r) => r.text),
        { kind: 'spm', vocabSize, signal: io.signal },
      );
      tokenizer = parseTokenizerJson({
        tokenizerJson: trained.tokenizerJson,
        tokenizerConfig: trained.tokenizerConfig,
      });
      io.stderr.write(`trained a ${tokenizer.vocabSize}-token tokenizer on ${rows.length} texts\n`);
    }
    const dim = numberOption(values, 'dim', { integer: true, min: 8 }) ?? 64;
    const spec: ModelSpec = {
      architecture: 'llama',
      name: 'classifier',
      vocabSize: tokenizer.vocabSize,
      dim,
      nLayers: numberOption(values, 'layers', { integer: true, min: 1 }) ?? 2,
      nHeads: 4,
      nKvHeads: 4,
      ffnDim: Math.round((dim * 8) / 3),
      ropeTheta: 10000,
      ropeLayout: 'adjacent',
      normEps: 1e-5,
      contextLength: maxLength,
      tiedEmbeddings: true,
    };
    backbone = { spec, tokenizer };
  }
  let lastShown = 0;
  const common = {
    backbone,
    examples: rows,
    epochs: numberOption(values, 'epochs', { integer: true, min: 1 }),
    batchSize: numberOption(values, 'batch-size', { integer: true, min: 1 }),
    learningRate: numberOption(values, 'lr', { min: 0 }),
    maxLength,
    seed: numberOption(values, 'seed', { integer: true }),
    kernelBackend: device,
    signal: io.signal,
    onWarning: warn,
    onProgress: (p: { step: number; totalSteps: number; loss: number; epoch: number; elapsedSeconds: number }) => {
      if (p.step === p.totalSteps || p.elapsedSeconds - lastShown >= 5) {
        lastShown = p.elapsedSeconds;
        io.stderr.write(`epoch ${p.epoch} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}\n`);
      }
    },
  };
  let trained: Awaited<ReturnType<typeof tfjs.trainClassifier>>;
  if (teacher) {
    const teacherClassifier = await tfjs.TfjsClassifier.create(teacher.data, teacher.head, { kernelBackend: device });
    try {
      trained = await tfjs.distillClassifier(teacherClassifier, {
        ...common,
        temperature: numberOption(values, 'temperature', { min: 0.01 }),
        alpha: numberOption(values, 'alpha', { min: 0, max: 1 }),
      });
    } finally {
      teacherClassifier.dispose();
    }
  } else {
    trained = await tfjs.trainClassifier({ ...common, mode, labels: labelList.length > 0 ? labelList : undefined });
  }
  const saved = await tfjs.saveClassifier(out, trained, { gguf: booleanOption(values, 'gguf') });
  const result: Record<string, unknown> = {
    classifier: saved.dir,
    head: saved.head,
    gguf: saved.gguf ?? '',
    mode: teacher ? 'distill' : mode,
    labels: trained.head.labels.join(','),
    steps: trained.stats.steps,
    finalLoss: trained.stats.lossHistory.at(-1) ?? Number.NaN,
    trainSeconds: trained.stats.seconds,
  };
  const valPath = stringOption(values, 'val');
  if (valPath) {
    const dev = await readTsv(valPath, trained.head.labels);
    const classifier = await tfjs.TfjsClassifier.create(trained.data, trained.head, { kernelBackend: device });
    try {
      const predictions = await classifier.classify(
        dev.map((d) => d.text),
        { signal: io.signal, onWarning: warn },
      );
      result.valAccuracy = predictions.filter((p, i) => p.label === dev[i].label).length / dev.length;
    } finally {
      classifier.dispose();
    }
  }
  if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify(result)}\n`);
  else
    for (const [k, v] of Object.entries(result))
      io.stdout.write(`${k}: ${typeof v === 'number' ? Number(v.toFixed(4)) : String(v)}\n`);
  return 0;
}
