import { InvalidArgumentError } from '@slmkit/core';
import type { CliCommand, CliIo, ParsedValues } from '../cli-command.js';
import { booleanOption, stringOption } from '../options.js';
import { formatBytes, ProgressBar } from '../progress-bar.js';

/** What one conversion target is asked to do. */
export interface ConvertRequest {
  input: string;
  tokenizerPath?: string;
  out: string;
  quantize?: string;
  signal: AbortSignal;
  onProgress: (fraction: number, stage: string) => void;
}

export interface ConvertOutcome {
  path: string;
  bytes: number;
  from: string;
}

interface ConvertTarget {
  /** Values `--quantize` accepts for this target. */
  quantizations: readonly string[];
  run(request: ConvertRequest): Promise<ConvertOutcome>;
}

/**
 * Conversion targets by `--to` name; each imports its package only when chosen. Add one entry per target
 * (e.g. `onnx`), above the marker comment.
 */
export const targets: Record<string, ConvertTarget> = {
  gguf: {
    quantizations: ['f32', 'f16', 'q8_0'],
    async run(request) {
      const { convertToGguf } = await import('@slmkit/backend-llamacpp');
      const input = request.tokenizerPath
        ? { path: request.input, tokenizerPath: request.tokenizerPath }
        : request.input;
      const result = await convertToGguf(input, request.out, {
        quantize: request.quantize as 'f32' | 'f16' | 'q8_0' | undefined,
        signal: request.signal,
        onProgress: (p) => request.onProgress(p.fraction, p.stage),
      });
      return { path: result.path, bytes: result.bytes, from: result.from };
    },
  },
  onnx: {
    quantizations: ['f32', 'int8'],
    async run(request) {
      const { convertToOnnx } = await import('@slmkit/backend-onnx');
      const input = request.tokenizerPath
        ? { path: request.input, tokenizerPath: request.tokenizerPath }
        : request.input;
      const result = await convertToOnnx(input, request.out, {
        quantize: request.quantize as 'f32' | 'int8' | undefined,
        signal: request.signal,
        onProgress: (p) => request.onProgress(p.fraction, p.stage),
      });
      return { path: result.path, bytes: result.bytes, from: result.from };
    },
  },
  // (new conversion targets: one entry each, above this comment)
};

function requireString(values: ParsedValues, name: string, message: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw new InvalidArgumentError(message, { field: `--${name}` });
  return value;
}

export const command: CliCommand = {
  name: 'convert',
  summary: 'convert a model to another format (llama2.c, safetensors folder or GGUF in; GGUF out)',
  usage: 'slm convert <in> --to <format> --out <path> [--quantize <type>] [--tokenizer <path>]',
  allowPositionals: true,
  options: {
    to: { type: 'string', description: `output format: ${Object.keys(targets).join(', ')}`, valueName: '<format>' },
    out: { type: 'string', description: 'output file (or folder, for folder formats)', valueName: '<path>' },
    quantize: {
      type: 'string',
      description: 'weight encoding: gguf: f32, f16, q8_0 (default: keep)',
      valueName: '<type>',
    },
    tokenizer: { type: 'string', description: 'tokenizer file, for llama2.c inputs (tok*.bin)', valueName: '<path>' },
    json: { type: 'boolean', description: 'print one JSON object: { path, bytes, from, to }' },
  },
  async run(values, positionals, io: CliIo) {
    if (positionals.length !== 1) {
      throw new InvalidArgumentError(`expects exactly one input model, got ${positionals.length}`, { field: '<in>' });
    }
    const to = requireString(values, 'to', `--to is required (${Object.keys(targets).join(', ')})`);
    const target = targets[to];
    if (!target) {
      throw new InvalidArgumentError(`unknown format "${to}"; choose one of: ${Object.keys(targets).join(', ')}`, {
        field: '--to',
        value: to,
      });
    }
    const out = requireString(values, 'out', '--out <path> is required');
    const quantize = stringOption(values, 'quantize');
    if (quantize !== undefined && !target.quantizations.includes(quantize)) {
      throw new InvalidArgumentError(`"${quantize}" is not one of ${target.quantizations.join(', ')} for --to ${to}`, {
        field: '--quantize',
        value: quantize,
      });
    }
    const bar = new ProgressBar(io.stderr, `convert -> ${to}`, { interactive: io.interactive });
    const result = await target.run({
      input: positionals[0],
      tokenizerPath: stringOption(values, 'tokenizer'),
      out,
      quantize,
      signal: io.signal,
      onProgress: (fraction, stage) => bar.update(fraction, stage),
    });
    bar.done(`${formatBytes(result.bytes)} written`);
    if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify({ ...result, to })}\n`);
    else io.stdout.write(`${result.path}\n`);
    return 0;
  },
};
