import { type ModelData, parameterCount } from '@slmkit/core';
import type { CliCommand } from '../cli-command.js';
import { formatBytes } from '../progress-bar.js';
import { booleanOption, stringOption } from '../options.js';
import { InvalidArgumentError } from '@slmkit/core';

interface TensorRow {
  name: string;
  shape: number[];
  dtype: string;
  bytes: number;
}

export interface ModelDescription {
  path: string;
  format: string;
  architecture: string;
  name: string;
  hyperParameters: Record<string, number | string | boolean>;
  tokenizer: { kind: string; vocabSize: number; bos?: number; eos?: number; chatTemplate: boolean };
  parameters: number;
  fileBytes: number;
  tensors: TensorRow[];
}

function describeData(path: string, format: string, data: ModelData, fileBytes: number): ModelDescription {
  const { spec, tokenizer } = data;
  return {
    path,
    format,
    architecture: spec.architecture,
    name: spec.name,
    hyperParameters: {
      vocabSize: spec.vocabSize,
      dim: spec.dim,
      nLayers: spec.nLayers,
      nHeads: spec.nHeads,
      nKvHeads: spec.nKvHeads,
      ffnDim: spec.ffnDim,
      contextLength: spec.contextLength,
      ropeTheta: spec.ropeTheta,
      ropeLayout: spec.ropeLayout,
      normEps: spec.normEps,
      tiedEmbeddings: spec.tiedEmbeddings,
    },
    tokenizer: {
      kind: tokenizer.kind,
      vocabSize: tokenizer.vocabSize,
      bos: tokenizer.special.bos,
      eos: tokenizer.special.eos,
      chatTemplate: tokenizer.chatTemplate !== undefined,
    },
    parameters: parameterCount(spec),
    fileBytes,
    tensors: [...data.weights].map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype, bytes: t.data.byteLength })),
  };
}

function printDescription(d: ModelDescription, out: NodeJS.WritableStream): void {
  const lines = [
    `file:          ${d.path}`,
    `format:        ${d.format}`,
    `architecture:  ${d.architecture} (${d.name})`,
    `size:          ${formatBytes(d.fileBytes)}, ${(d.parameters / 1e6).toFixed(3)}M parameters`,
    `tokenizer:     ${d.tokenizer.kind}, ${d.tokenizer.vocabSize} tokens (bos ${d.tokenizer.bos ?? '-'}, eos ${d.tokenizer.eos ?? '-'})${d.tokenizer.chatTemplate ? ', chat template' : ''}`,
    'hyper-parameters:',
    ...Object.entries(d.hyperParameters).map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
    `tensors (${d.tensors.length}):`,
    ...d.tensors.map((t) => `  ${t.name.padEnd(28)} ${t.dtype.padEnd(5)} [${t.shape.join(', ')}]`.padEnd(64) + ` ${formatBytes(t.bytes)}`),
  ];
  out.write(`${lines.join('\n')}\n`);
}

export const command: CliCommand = {
  name: 'inspect',
  summary: 'show a model file: format, architecture, hyper-parameters, tokenizer, tensors, size',
  usage: 'slm inspect <model> [--tokenizer <path>] [--json]',
  allowPositionals: true,
  options: {
    tokenizer: { type: 'string', description: 'tokenizer file, for llama2.c checkpoints', valueName: '<path>' },
    json: { type: 'boolean', description: 'print one JSON object' },
  },
  async run(values, positionals, io) {
    const path = positionals[0];
    if (path === undefined || positionals.length > 1) {
      throw new InvalidArgumentError('expects exactly one model path', { field: 'model' });
    }
    const node = await import('@slmkit/core/node');
    const format = await node.detectModelFormat(path);
    const tokenizerPath = stringOption(values, 'tokenizer');
    const data = await node.loadModelData(tokenizerPath ? { path, tokenizerPath } : { path });
    const { stat } = await import('node:fs/promises');
    const description = describeData(path, format, data, (await stat(path)).size);
    if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify(description)}\n`);
    else printDescription(description, io.stdout);
    return 0;
  },
};
