import { InvalidArgumentError } from '@slmkit/core';
import type { CliCommand } from '../cli-command.js';
import { numberOption, stringOption } from '../options.js';
import { classifyFinetuneOptions, runClassifyFinetune } from './finetune-classify.js';
import {
  kernelFrom,
  printResult,
  readConfigFile,
  requireOut,
  splitFiles,
  tokenizeSplits,
  trainConfigFrom,
  trainingOptions,
} from './train.js';

export const command: CliCommand = {
  name: 'finetune',
  summary:
    'fine-tune any model core loads on domain text (full, or LoRA merged on export); prints val loss before/after',
  usage: 'slm finetune --model <path> [--tokenizer <path>] --data <dir> --out <dir> [--lora <rank>] [options]',
  options: {
    ...trainingOptions,
    model: {
      type: 'string',
      description: 'base model: GGUF, llama2.c .bin (+ --tokenizer), HF safetensors folder',
      valueName: '<path>',
    },
    tokenizer: { type: 'string', description: 'tokenizer, for formats that keep it separate', valueName: '<path>' },
    lora: {
      type: 'string',
      description: 'LoRA rank (omit for a full fine-tune); adapters are merged on export',
      valueName: '<rank>',
    },
    'lora-alpha': { type: 'string', description: 'LoRA alpha (default 2 x rank)', valueName: '<x>' },
    ...classifyFinetuneOptions,
  },
  async run(values, _positionals, io) {
    if (stringOption(values, 'task') === 'classify') return runClassifyFinetune(values, io);
    const tfjs = await import('@slmkit/backend-tfjs');
    const { loadModelData } = await import('@slmkit/core/node');
    const modelPath = stringOption(values, 'model');
    if (!modelPath) throw new InvalidArgumentError('is required: the model to fine-tune', { field: '--model' });
    const tokenizerPath = stringOption(values, 'tokenizer');
    const base = await loadModelData(tokenizerPath ? { path: modelPath, tokenizerPath } : modelPath);
    const outDir = requireOut(values);
    const rank = numberOption(values, 'lora', { integer: true, min: 1 });
    const alpha = numberOption(values, 'lora-alpha', { min: 0 });
    const file = await readConfigFile(values);
    const config = {
      learningRate: rank ? 1.5e-3 : 3e-4,
      minLearningRate: rank ? 1.5e-4 : 3e-5,
      warmupSteps: 10,
      steps: 200,
      weightDecay: 0,
      seqLen: Math.min(128, base.spec.contextLength),
      ...trainConfigFrom(values, file),
    };
    const kernelBackend = kernelFrom(values);
    const { train, val } = await tokenizeSplits(tfjs, await splitFiles(values), base.tokenizer, io.signal);
    const seqLen = config.seqLen;
    const before = val
      ? await tfjs.evaluateLoss({ spec: base.spec, weights: base.weights, tokens: val, seqLen, kernelBackend })
      : undefined;
    if (before !== undefined)
      io.stderr.write(`validation loss before: ${before.toFixed(4)} (perplexity ${Math.exp(before).toFixed(2)})\n`);
    const { onProgress, bar } = (await import('./train.js')).trainingProgress(io, rank ? `lora r=${rank}` : 'finetune');
    const result = await tfjs.trainModel({
      spec: base.spec,
      initialWeights: base.weights,
      lora: rank ? { rank, alpha } : undefined,
      config,
      train,
      val,
      outDir,
      resume: values.resume === true,
      kernelBackend,
      signal: io.signal,
      onProgress,
    });
    bar.done(`loss ${result.finalLoss.toFixed(3)}`);
    const exported = await tfjs.exportTrainedModel(
      outDir,
      { spec: base.spec, weights: result.weights, tokenizer: base.tokenizer },
      { signal: io.signal },
    );
    const after = val
      ? await tfjs.evaluateLoss({ spec: base.spec, weights: result.weights, tokens: val, seqLen, kernelBackend })
      : undefined;
    printResult(io, values, {
      model: exported.hfFolder,
      gguf: exported.gguf ?? '',
      mode: rank ? `lora r=${rank}` : 'full',
      steps: result.steps,
      valLossBefore: before ?? Number.NaN,
      valLossAfter: after ?? Number.NaN,
      valPerplexityBefore: before === undefined ? Number.NaN : Math.exp(before),
      valPerplexityAfter: after === undefined ? Number.NaN : Math.exp(after),
    });
    return 0;
  },
};
