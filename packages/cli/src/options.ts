import { InvalidArgumentError } from '@slmkit/core';
import type { OptionSpec, ParsedValues } from './cli-command.js';

/** Options shared by commands that load a model. */
export const modelOptions: Record<string, OptionSpec> = {
  backend: {
    type: 'string',
    description: 'runtime: llamacpp (default), onnx, tfjs, reference, tinyjs',
    valueName: '<name>',
  },
  model: {
    type: 'string',
    description: 'model file or folder (GGUF, llama2.c .bin, HF folder, ONNX folder)',
    valueName: '<path>',
  },
  tokenizer: {
    type: 'string',
    description: 'tokenizer file, for formats that keep it separate (llama2.c tok*.bin)',
    valueName: '<path>',
  },
  threads: {
    type: 'string',
    description: 'CPU threads (default: chosen from the CPU quota and model size)',
    valueName: '<n>',
  },
  'context-size': {
    type: 'string',
    description: "context window to allocate (default: the model's)",
    valueName: '<n>',
  },
};

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function booleanOption(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

export function stringListOption(values: ParsedValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** Parses a numeric option; InvalidArgumentError names the flag and the bad value. */
export function numberOption(
  values: ParsedValues,
  name: string,
  check: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const bad =
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (check.integer && !Number.isInteger(value)) ||
    (check.min !== undefined && value < check.min) ||
    (check.max !== undefined && value > check.max);
  if (bad) {
    const kind = check.integer ? 'an integer' : 'a number';
    const range = [check.min !== undefined ? `>= ${check.min}` : '', check.max !== undefined ? `<= ${check.max}` : '']
      .filter(Boolean)
      .join(' and ');
    throw new InvalidArgumentError(`expects ${kind}${range ? ` ${range}` : ''}, got "${raw}"`, {
      field: `--${name}`,
      value: raw,
    });
  }
  return value;
}
