import { ModelFormatError } from '../errors/index.js';
import type { ClassifierHead } from './text-classifier.js';

/** File name of a classifier head saved beside its backbone. */
export const CLASSIFIER_HEAD_FILE = 'classifier-head.json';

/** On-disk form of a ClassifierHead (JSON; weights row-major [labels, dim]). */
export interface ClassifierHeadJson {
  format: 'slmkit-classifier-head';
  version: 1;
  labels: string[];
  pooling: 'mean' | 'last';
  dim: number;
  /** Longest token sequence the classifier was trained on (texts are truncated to it). */
  maxLength?: number;
  weight: number[];
  bias: number[];
}

export function classifierHeadToJson(head: ClassifierHead, extras: { maxLength?: number } = {}): string {
  const json: ClassifierHeadJson = {
    format: 'slmkit-classifier-head',
    version: 1,
    labels: [...head.labels],
    pooling: head.pooling,
    dim: head.dim,
    ...(extras.maxLength !== undefined ? { maxLength: extras.maxLength } : {}),
    weight: Array.from(head.weight),
    bias: Array.from(head.bias),
  };
  return `${JSON.stringify(json)}\n`;
}

function numbers(value: unknown, field: string, length: number, file?: string): Float32Array {
  if (
    !Array.isArray(value) ||
    value.length !== length ||
    !value.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw new ModelFormatError(`"${field}" must be ${length} finite numbers`, { file, field });
  }
  return Float32Array.from(value as number[]);
}

/** Parses and validates a classifier head file; errors name the file and field at fault. */
export function parseClassifierHeadJson(text: string, file?: string): ClassifierHead & { maxLength?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ModelFormatError('is not valid JSON', { file, cause });
  }
  if (typeof raw !== 'object' || raw === null) throw new ModelFormatError('is not a JSON object', { file });
  const o = raw as Record<string, unknown>;
  if (o.format !== 'slmkit-classifier-head')
    throw new ModelFormatError('is not an slmkit classifier head', { file, field: 'format', value: String(o.format) });
  if (o.version !== 1)
    throw new ModelFormatError('unsupported version', { file, field: 'version', value: String(o.version) });
  const labels = o.labels;
  if (
    !Array.isArray(labels) ||
    labels.length < 2 ||
    !labels.every((l) => typeof l === 'string') ||
    new Set(labels).size !== labels.length
  ) {
    throw new ModelFormatError('"labels" must be two or more distinct strings', { file, field: 'labels' });
  }
  if (o.pooling !== 'mean' && o.pooling !== 'last')
    throw new ModelFormatError('"pooling" must be mean or last', { file, field: 'pooling', value: String(o.pooling) });
  const dim = o.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1 || dim > 1 << 16) {
    throw new ModelFormatError('"dim" must be a positive integer', { file, field: 'dim', value: String(dim) });
  }
  const maxLength = o.maxLength;
  if (maxLength !== undefined && (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1)) {
    throw new ModelFormatError('"maxLength" must be a positive integer', {
      file,
      field: 'maxLength',
      value: String(maxLength),
    });
  }
  return {
    labels: labels as string[],
    pooling: o.pooling,
    dim,
    weight: numbers(o.weight, 'weight', labels.length * dim, file),
    bias: numbers(o.bias, 'bias', labels.length, file),
    ...(maxLength !== undefined ? { maxLength: maxLength as number } : {}),
  };
}
