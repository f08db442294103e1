import { InvalidArgumentError } from '@slmkit/core';
import type { ModelDescription } from '@slmkit/core/node';
import type { CliCommand } from '../cli-command.js';
import { booleanOption } from '../options.js';
import { formatBytes } from '../progress-bar.js';

function printDescription(d: ModelDescription, out: NodeJS.WritableStream): void {
  const lines = [
    `file:          ${d.path}`,
    `format:        ${d.format}`,
    `architecture:  ${d.architecture} (${d.name})`,
    `size:          ${formatBytes(d.fileBytes)}, ${(d.parameters / 1e6).toFixed(3)}M parameters`,
    `tokenizer:     ${d.tokenizer.kind}, ${d.tokenizer.vocabSize} tokens (bos ${d.tokenizer.bos ?? '-'}, eos ${d.tokenizer.eos ?? '-'})${d.tokenizer.chatTemplate ? ', chat template' : ''}`,
    'hyper-parameters:',
    ...Object.entries(d.hyperParameters).map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
    ...(d.metadata
      ? ['metadata:', ...Object.entries(d.metadata).map(([k, v]) => `  ${k.padEnd(40)} ${String(v).slice(0, 80)}`)]
      : []),
    `tensors (${d.tensors.length}):`,
    ...d.tensors.map(
      (t) =>
        `  ${t.name.padEnd(28)} ${t.dtype.padEnd(5)} [${t.shape.join(', ')}]`.padEnd(64) + ` ${formatBytes(t.bytes)}`,
    ),
  ];
  out.write(`${lines.join('\n')}\n`);
}

export const command: CliCommand = {
  name: 'inspect',
  summary: 'show a model file: format, architecture, hyper-parameters, tokenizer, tensors, size',
  usage: 'slm inspect <model> [--json]',
  allowPositionals: true,
  options: {
    json: { type: 'boolean', description: 'print one JSON object' },
  },
  async run(values, positionals, io) {
    const path = positionals[0];
    if (path === undefined || positionals.length > 1) {
      throw new InvalidArgumentError('expects exactly one model path', { field: 'model' });
    }
    const { describeModel } = await import('@slmkit/core/node');
    const description = await describeModel(path);
    if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify(description)}\n`);
    else printDescription(description, io.stdout);
    return 0;
  },
};
