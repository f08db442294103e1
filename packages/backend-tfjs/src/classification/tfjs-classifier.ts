import {
  BackendError,
  type ClassifierHead,
  type ClassifierPrediction,
  InvalidArgumentError,
  type ModelData,
  type ModelSpec,
  type Tokenizer,
  throwIfAborted,
  validateClassifierHead,
} from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import { activateTf, DEFAULT_KERNEL_BACKEND, type Tf, type TfjsKernelBackend } from '../tfjs-runtime.js';
import { createVariables, disposeParams, type TrainableParams, weightsToValues } from '../training/trainable-llama.js';
import { type ClassifierVariables, ConstantsCache, classifierLogits, pooledHidden } from './classifier-forward.js';
import { encodeTexts, makeBatches } from './text-batches.js';

/** Texts per forward batch at inference. */
export const DEFAULT_CLASSIFY_BATCH_SIZE = 32;

export interface TfjsClassifierOptions {
  /** Default DEFAULT_KERNEL_BACKEND (wasm). */
  kernelBackend?: TfjsKernelBackend;
  /** Texts longer than this (in tokens) are truncated with a warning. Default: the head's maxLength, else the spec's context. */
  maxLength?: number;
}

export interface ClassifyBatchOptions {
  /** Default DEFAULT_CLASSIFY_BATCH_SIZE. */
  batchSize?: number;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

function softmaxRow(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

interface ClassifierState {
  tf: Tf;
  vars: ClassifierVariables;
  identity: TF.Tensor2D;
  constants: ConstantsCache;
}

/**
 * A text classifier (Llama backbone + mean pooling + linear head) run by TensorFlow.js with batching. Gives the
 * predictions core's TextClassifier gives on any backend for the same backbone and head.
 */
export class TfjsClassifier {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly head: ClassifierHead;
  readonly maxLength: number;
  readonly #kernel: TfjsKernelBackend;
  #state: ClassifierState | undefined;

  private constructor(
    data: ModelData,
    head: ClassifierHead,
    kernel: TfjsKernelBackend,
    maxLength: number,
    state: ClassifierState,
  ) {
    this.spec = data.spec;
    this.tokenizer = data.tokenizer;
    this.head = head;
    this.#kernel = kernel;
    this.maxLength = maxLength;
    this.#state = state;
  }

  static async create(
    data: ModelData,
    head: ClassifierHead & { maxLength?: number },
    options: TfjsClassifierOptions = {},
  ): Promise<TfjsClassifier> {
    if (head.pooling !== 'mean')
      throw new InvalidArgumentError('the tfjs classifier supports mean pooling only', {
        field: 'pooling',
        value: head.pooling,
      });
    validateClassifierHead(head, data.spec.dim);
    const kernel = options.kernelBackend ?? DEFAULT_KERNEL_BACKEND;
    const tf = await activateTf(kernel);
    const backbone: TrainableParams = createVariables(tf, data.spec, weightsToValues(data.spec, data.weights));
    const labels = head.labels.length;
    const w = new Float32Array(head.dim * labels);
    for (let r = 0; r < labels; r++)
      for (let c = 0; c < head.dim; c++) w[c * labels + r] = head.weight[r * head.dim + c];
    const identity = new Float32Array(head.dim * head.dim);
    for (let i = 0; i < head.dim; i++) identity[i * head.dim + i] = 1;
    const state = {
      tf,
      vars: { backbone, headWeight: tf.tensor2d(w, [head.dim, labels]), headBias: tf.tensor1d(head.bias) },
      identity: tf.tensor2d(identity, [head.dim, head.dim]),
      constants: new ConstantsCache(tf, data.spec),
    };
    const maxLength = Math.min(options.maxLength ?? head.maxLength ?? data.spec.contextLength, data.spec.contextLength);
    return new TfjsClassifier(data, head, kernel, maxLength, state);
  }

  async #live(): Promise<ClassifierState> {
    const s = this.#state;
    if (!s) throw new BackendError('the classifier was disposed');
    await activateTf(this.#kernel);
    return s;
  }

  async #run(
    texts: readonly string[],
    options: ClassifyBatchOptions,
    fn: 'logits' | 'hidden',
  ): Promise<Float32Array[]> {
    if (texts.length === 0) throw new InvalidArgumentError('no texts to classify', { field: 'texts' });
    const { tf, vars, identity, constants } = await this.#live();
    const sequences = encodeTexts(this.tokenizer, texts, this.maxLength, options.onWarning);
    const out: Float32Array[] = new Array(texts.length);
    for (const batch of makeBatches(sequences, options.batchSize ?? DEFAULT_CLASSIFY_BATCH_SIZE, this.maxLength)) {
      throwIfAborted(options.signal, 'classify');
      const c = constants.get(batch.seqLen);
      const values = tf.tidy(() =>
        fn === 'logits'
          ? classifierLogits(tf, this.spec, vars, batch.ids, batch.lengths, c)
          : pooledHidden(tf, this.spec, vars.backbone, identity, batch.ids, batch.lengths, c),
      );
      const data = (await values.data()) as Float32Array;
      const width = values.shape[1];
      values.dispose();
      batch.rows.forEach((row, b) => {
        out[row] = data.slice(b * width, (b + 1) * width);
      });
    }
    return out;
  }

  /** Raw head logits per text. */
  logits(texts: readonly string[], options: ClassifyBatchOptions = {}): Promise<Float32Array[]> {
    return this.#run(texts, options, 'logits');
  }

  async classify(texts: readonly string[], options: ClassifyBatchOptions = {}): Promise<ClassifierPrediction[]> {
    const logits = await this.logits(texts, options);
    return logits.map((l) => {
      const p = softmaxRow(l);
      let best = 0;
      for (let i = 1; i < p.length; i++) if (l[i] > l[best]) best = i;
      return {
        label: this.head.labels[best],
        probabilities: Object.fromEntries(this.head.labels.map((name, i) => [name, p[i]])),
      };
    });
  }

  /** Mean-pooled final hidden states (after the output norm), L2-normalised unless `normalize` is false. */
  async embed(
    texts: readonly string[],
    options: ClassifyBatchOptions & { normalize?: boolean } = {},
  ): Promise<Float32Array[]> {
    const rows = await this.#run(texts, options, 'hidden');
    if (options.normalize === false) return rows;
    return rows.map((v) => {
      const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
      return n > 0 ? v.map((x) => x / n) : v;
    });
  }

  dispose(): void {
    const s = this.#state;
    if (!s) return;
    disposeParams(s.vars.backbone);
    s.vars.headWeight.dispose();
    s.vars.headBias.dispose();
    s.identity.dispose();
    s.constants.dispose();
    this.#state = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
