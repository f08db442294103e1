import { InvalidArgumentError, ModelFormatError } from '../errors/index.js';
import type { LoadedModel } from '../model/backend.js';
import { type EmbedTextsOptions, embed } from './embed.js';

/** A linear classification head over pooled hidden states: logits = W x + b, W is [labels, dim]. */
export interface ClassifierHead {
  labels: string[];
  pooling: 'mean' | 'last';
  /** Row-major [labels.length, dim]. */
  weight: Float32Array;
  bias: Float32Array;
  dim: number;
}

export interface ClassifierPrediction {
  label: string;
  probabilities: Record<string, number>;
}

export function validateClassifierHead(head: ClassifierHead, dim?: number): void {
  if (head.labels.length < 2) throw new ModelFormatError('a classifier needs at least two labels', { field: 'labels' });
  if (head.weight.length !== head.labels.length * head.dim || head.bias.length !== head.labels.length) {
    throw new ModelFormatError(`head weights do not match ${head.labels.length} labels x ${head.dim}`, {
      field: 'weight',
    });
  }
  if (dim !== undefined && head.dim !== dim) {
    throw new ModelFormatError(`head expects hidden size ${head.dim}, the backbone has ${dim}`, {
      field: 'dim',
      value: head.dim,
    });
  }
}

/** Softmax probabilities of the head applied to one pooled vector. */
export function applyClassifierHead(head: ClassifierHead, x: Float32Array): ClassifierPrediction {
  const logits = head.labels.map((_, r) => {
    let s = head.bias[r];
    for (let c = 0; c < head.dim; c++) s += head.weight[r * head.dim + c] * x[c];
    return s;
  });
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  const best = logits.indexOf(max);
  return { label: head.labels[best], probabilities: Object.fromEntries(head.labels.map((l, i) => [l, exps[i] / sum])) };
}

/**
 * A text classifier = a backbone (any backend's LoadedModel that can embed) + pooling + a linear head held in core,
 * so the same head gives the same predictions on every backend.
 */
export class TextClassifier {
  readonly backbone: LoadedModel;
  readonly head: ClassifierHead;

  constructor(backbone: LoadedModel, head: ClassifierHead) {
    validateClassifierHead(head, backbone.spec.dim);
    this.backbone = backbone;
    this.head = head;
  }

  async classify(
    texts: readonly string[],
    options: Omit<EmbedTextsOptions, 'pooling' | 'normalize'> = {},
  ): Promise<ClassifierPrediction[]> {
    if (texts.length === 0) throw new InvalidArgumentError('no texts to classify', { field: 'texts' });
    const vectors = await embed(this.backbone, texts, { ...options, pooling: this.head.pooling, normalize: false });
    return vectors.map((v) => applyClassifierHead(this.head, v));
  }
}
