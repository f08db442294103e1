import {
  type ClassifierHead,
  InvalidArgumentError,
  type ModelData,
  type ModelSpec,
  type Tokenizer,
  throwIfAborted,
  validateModelSpec,
} from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import { activateTf, DEFAULT_KERNEL_BACKEND, type Tf, type TfjsKernelBackend } from '../tfjs-runtime.js';
import { AdamW } from '../training/adamw.js';
import { learningRateAt } from '../training/lr-schedule.js';
import { TrainRng } from '../training/train-rng.js';
import {
  createVariables,
  crossEntropy,
  disposeParams,
  distillationLoss,
  initialValues,
  readValues,
  valuesToWeights,
  weightsToValues,
} from '../training/trainable-llama.js';
import { type ClassifierVariables, ConstantsCache, classifierLogits, pooledHidden } from './classifier-forward.js';
import { encodeTexts, makeBatches } from './text-batches.js';

/** A labelled example; `line` (1-based, in the source file) makes errors name the row. */
export interface ClassifierExample {
  text: string;
  label: string;
  line?: number;
}

export interface ClassifierTrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  /** Mean loss of the last step. */
  loss: number;
  learningRate: number;
  elapsedSeconds: number;
}

/** Knowledge distillation from a teacher's logits: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE. */
export interface ClassifierDistillOptions {
  /** Teacher logits per training example (same order as `examples`, one value per label). */
  teacherLogits: readonly Float32Array[];
  /** Default DEFAULT_DISTILL_TEMPERATURE. */
  temperature?: number;
  /** Default DEFAULT_DISTILL_ALPHA. */
  alpha?: number;
}

export const DEFAULT_DISTILL_TEMPERATURE = 2;
export const DEFAULT_DISTILL_ALPHA = 0.7;

export interface TrainClassifierOptions {
  /** A model to fine-tune (any model core loads), or a spec and tokenizer to train a backbone from scratch. */
  backbone: ModelData | { spec: ModelSpec; tokenizer: Tokenizer };
  examples: readonly ClassifierExample[];
  /** Label order of the head. Default: the distinct labels of `examples`, sorted. Each must occur in the data. */
  labels?: readonly string[];
  /** `head`: train the linear head on frozen pooled states; `full`: fine-tune backbone and head together. */
  mode: 'head' | 'full';
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Peak learning rate (warmup then cosine). Default 1e-3 (full), 1e-2 (head). */
  learningRate?: number;
  /** Default 0.01. */
  weightDecay?: number;
  /** Global gradient-norm clip; 0 turns it off. Default 1. */
  gradClip?: number;
  /** Tokens per text (longer texts are truncated, with one warning each). Default min(64, context). */
  maxLength?: number;
  /** Default 1. */
  seed?: number;
  /**
   * Word dropout (full mode): each training token after the first is replaced by the unknown token with this
   * probability, a fresh draw per step (a regulariser for small text classifiers). Default 0.
   */
  tokenDropout?: number;
  /**
   * Label smoothing of the cross-entropy term: the target puts 1 - e on the true label and e / labels on every label.
   * Default 0.
   */
  labelSmoothing?: number;
  kernelBackend?: TfjsKernelBackend;
  distill?: ClassifierDistillOptions;
  signal?: AbortSignal;
  onProgress?: (progress: ClassifierTrainProgress) => void;
  onWarning?: (message: string) => void;
}

export interface TrainedClassifier {
  /** The backbone as trained (f32; after head-only training, the input weights unchanged). */
  data: ModelData;
  head: ClassifierHead & { maxLength: number };
  stats: { steps: number; seconds: number; lossHistory: number[]; examples: number; truncated: number };
}

function where(examples: readonly ClassifierExample[]): (i: number) => string {
  return (i) => (examples[i].line !== undefined ? `line ${examples[i].line}` : `examples[${i}]`);
}

/** Label order and each example's label index; a label of the data missing from `labels`, or vice versa, is an error. */
export function resolveLabels(
  examples: readonly ClassifierExample[],
  labels?: readonly string[],
): { labels: string[]; targets: Int32Array } {
  if (examples.length === 0) throw new InvalidArgumentError('no training examples', { field: 'examples' });
  const present = new Set(examples.map((e) => e.label));
  const order = labels ? [...labels] : [...present].sort();
  if (order.length < 2)
    throw new InvalidArgumentError(`a classifier needs at least two labels; the data has ${order.length}`, {
      field: 'labels',
    });
  if (new Set(order).size !== order.length) throw new InvalidArgumentError('labels repeat', { field: 'labels' });
  const missing = order.filter((l) => !present.has(l));
  if (missing.length > 0) {
    throw new InvalidArgumentError(`label(s) ${missing.map((l) => `"${l}"`).join(', ')} missing from the data`, {
      field: 'labels',
      value: missing,
    });
  }
  const index = new Map(order.map((l, i) => [l, i]));
  const at = where(examples);
  const targets = Int32Array.from(examples, (e, i) => {
    const k = index.get(e.label);
    if (k === undefined)
      throw new InvalidArgumentError(`${at(i)}: label "${e.label}" is not one of ${order.join(', ')}`, {
        field: at(i),
        value: e.label,
      });
    return k;
  });
  return { labels: order, targets };
}

/** Cross-entropy against targets of 1 - e on the true label plus e / labels on every label. */
export function smoothedCrossEntropy(tf: Tf, logits: TF.Tensor2D, targets: Int32Array, smoothing: number): TF.Scalar {
  const n = logits.shape[1];
  const target = tf.add(tf.mul(tf.oneHot(tf.tensor1d(targets, 'int32'), n), 1 - smoothing), smoothing / n);
  return tf.neg<TF.Scalar>(tf.mean<TF.Scalar>(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1)));
}

function isModelData(b: TrainClassifierOptions['backbone']): b is ModelData {
  return 'weights' in b && b.weights !== undefined;
}

/**
 * Trains a text classifier with TensorFlow.js: a Llama-family backbone (from scratch or any loaded model), mean
 * pooling and a linear head, cross-entropy (or distillation) loss, AdamW with warmup + cosine decay, batches of
 * similar-length texts, progress per step and an AbortSignal checked between steps.
 */
export async function trainClassifier(options: TrainClassifierOptions): Promise<TrainedClassifier> {
  const { spec, tokenizer } = options.backbone;
  validateModelSpec(spec);
  if (tokenizer.vocabSize > spec.vocabSize) {
    throw new InvalidArgumentError(
      `the tokenizer has ${tokenizer.vocabSize} tokens; the model only ${spec.vocabSize}`,
      { field: 'tokenizer' },
    );
  }
  if (options.mode === 'head' && !isModelData(options.backbone)) {
    throw new InvalidArgumentError('head-only training needs a trained backbone (ModelData with weights)', {
      field: 'mode',
    });
  }
  const { labels, targets } = resolveLabels(options.examples, options.labels);
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  const maxLength = Math.min(options.maxLength ?? 64, spec.contextLength);
  for (const [field, v] of [
    ['epochs', epochs],
    ['batchSize', batchSize],
    ['maxLength', maxLength],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new InvalidArgumentError(`${field} must be a positive integer`, { field, value: v });
  }
  const tokenDropout = options.tokenDropout ?? 0;
  if (!(tokenDropout >= 0 && tokenDropout < 1))
    throw new InvalidArgumentError('tokenDropout must be in [0, 1)', { field: 'tokenDropout', value: tokenDropout });
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1))
    throw new InvalidArgumentError('labelSmoothing must be in [0, 1)', {
      field: 'labelSmoothing',
      value: labelSmoothing,
    });
  const dropId = tokenizer.special.unk ?? 0;
  const distill = options.distill;
  if (
    distill &&
    (distill.teacherLogits.length !== options.examples.length ||
      distill.teacherLogits.some((l) => l.length !== labels.length))
  ) {
    throw new InvalidArgumentError('teacherLogits must hold one row of label logits per example', {
      field: 'distill.teacherLogits',
    });
  }
  const temperature = distill?.temperature ?? DEFAULT_DISTILL_TEMPERATURE;
  const alpha = distill?.alpha ?? DEFAULT_DISTILL_ALPHA;

  const tf = await activateTf(options.kernelBackend ?? DEFAULT_KERNEL_BACKEND);
  const rng = new TrainRng(options.seed ?? 1);
  let truncated = 0;
  const sequences = encodeTexts(
    tokenizer,
    options.examples.map((e) => e.text),
    maxLength,
    (m) => {
      truncated++;
      options.onWarning?.(m);
    },
    where(options.examples),
  );

  const values = isModelData(options.backbone)
    ? weightsToValues(spec, options.backbone.weights)
    : initialValues(spec, rng);
  const backbone = createVariables(tf, spec, values);
  const nLabels = labels.length;
  const headInit = new Float32Array(spec.dim * nLabels);
  for (let i = 0; i < headInit.length; i++) headInit[i] = rng.normal() * 0.02;
  const headWeight = tf.variable(tf.tensor2d(headInit, [spec.dim, nLabels]), true);
  const headBias = tf.variable(tf.zeros([nLabels]), true);
  const vars: ClassifierVariables = {
    backbone,
    headWeight: headWeight as TF.Tensor2D as TF.Variable<TF.Rank.R2>,
    headBias: headBias as TF.Variable<TF.Rank.R1>,
  };
  const trainable = new Map<string, TF.Variable>([
    ['head.weight', headWeight],
    ['head.bias', headBias],
  ]);
  if (options.mode === 'full') for (const [n, v] of backbone.variables) trainable.set(n, v);
  const constants = new ConstantsCache(tf, spec);
  const optimizer = new AdamW(tf, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: options.weightDecay ?? 0.01 });
  const peak = options.learningRate ?? (options.mode === 'full' ? 1e-3 : 1e-2);
  const gradClip = options.gradClip ?? 1;
  const lossHistory: number[] = [];
  const t0 = performance.now();
  let step = 0;
  try {
    // Head-only: the frozen backbone's pooled states are computed once; the head trains on them.
    let features: Float32Array[] | undefined;
    if (options.mode === 'head') {
      features = new Array(sequences.length);
      const identity = tf.eye(spec.dim) as TF.Tensor2D;
      try {
        for (const b of makeBatches(sequences, 64, maxLength)) {
          throwIfAborted(options.signal, 'training');
          const pooled = tf.tidy(() =>
            pooledHidden(tf, spec, backbone, identity, b.ids, b.lengths, constants.get(b.seqLen)),
          );
          const data = pooled.dataSync() as Float32Array;
          pooled.dispose();
          b.rows.forEach((r, i) => {
            (features as Float32Array[])[r] = data.slice(i * spec.dim, (i + 1) * spec.dim);
          });
        }
      } finally {
        identity.dispose();
      }
    }
    const stepsPerEpoch = Math.ceil(sequences.length / batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    const schedule = { peak, min: peak * 0.05, warmupSteps: Math.min(100, Math.ceil(totalSteps * 0.05)), totalSteps };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (const b of makeBatches(sequences, batchSize, maxLength, rng)) {
        throwIfAborted(options.signal, 'training');
        step++;
        const lr = learningRateAt(step, schedule);
        const batchTargets = Int32Array.from(b.rows, (r) => targets[r]);
        const { value, grads } = tf.variableGrads(() => {
          let logits: TF.Tensor2D;
          if (features) {
            const x = tf.tensor2d(
              Float32Array.from(b.rows.flatMap((r) => Array.from((features as Float32Array[])[r]))),
              [b.rows.length, spec.dim],
            );
            logits = tf.add(tf.matMul(x, headWeight as TF.Tensor2D), headBias) as TF.Tensor2D;
          } else {
            let ids = b.ids;
            if (tokenDropout > 0) {
              ids = Int32Array.from(b.ids);
              b.lengths.forEach((len, r) => {
                for (let t = 1; t < len; t++) if (rng.next() < tokenDropout) ids[r * b.seqLen + t] = dropId;
              });
            }
            logits = classifierLogits(tf, spec, vars, ids, b.lengths, constants.get(b.seqLen));
          }
          if (!distill) {
            return labelSmoothing > 0
              ? smoothedCrossEntropy(tf, logits, batchTargets, labelSmoothing)
              : crossEntropy(tf, logits, batchTargets);
          }
          const teacher = tf.tensor2d(Float32Array.from(b.rows.flatMap((r) => Array.from(distill.teacherLogits[r]))), [
            b.rows.length,
            nLabels,
          ]);
          const probs = tf.softmax(tf.div(teacher, temperature)) as TF.Tensor2D;
          return distillationLoss(tf, logits, batchTargets, probs, temperature, alpha);
        }, [...trainable.values()]);
        const loss = value.dataSync()[0];
        value.dispose();
        if (!Number.isFinite(loss)) {
          for (const g of Object.values(grads)) g.dispose();
          throw new InvalidArgumentError(`the loss became ${loss} at step ${step}; lower the learning rate`, {
            field: 'learningRate',
            value: peak,
          });
        }
        const byName = new Map<string, TF.Tensor>();
        for (const [n, v] of trainable) {
          const g = grads[v.name];
          if (g) byName.set(n, g);
        }
        const norm = Math.sqrt(
          tf.tidy(() => tf.addN([...byName.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0]),
        );
        if (gradClip > 0 && norm > gradClip) {
          for (const [n, g] of byName) {
            byName.set(n, tf.mul(g, gradClip / (norm + 1e-6)));
            g.dispose();
          }
        }
        optimizer.apply(trainable, byName, lr);
        for (const g of byName.values()) g.dispose();
        for (const g of Object.values(grads)) if (!g.isDisposed) g.dispose();
        lossHistory.push(loss);
        options.onProgress?.({
          epoch,
          epochs,
          step,
          totalSteps,
          loss,
          learningRate: lr,
          elapsedSeconds: (performance.now() - t0) / 1000,
        });
      }
    }
    const headW = headWeight.dataSync() as Float32Array;
    const weight = new Float32Array(nLabels * spec.dim);
    for (let c = 0; c < spec.dim; c++)
      for (let r = 0; r < nLabels; r++) weight[r * spec.dim + c] = headW[c * nLabels + r];
    // Read back from the variables in both modes, so a frozen backbone is shown to be unchanged, not assumed.
    const data: ModelData = { spec, tokenizer, weights: valuesToWeights(spec, readValues(backbone)) };
    return {
      data,
      head: {
        labels,
        pooling: 'mean',
        dim: spec.dim,
        weight,
        bias: Float32Array.from(headBias.dataSync() as Float32Array),
        maxLength,
      },
      stats: {
        steps: step,
        seconds: (performance.now() - t0) / 1000,
        lossHistory,
        examples: sequences.length,
        truncated,
      },
    };
  } finally {
    optimizer.dispose();
    constants.dispose();
    disposeParams(backbone);
    headWeight.dispose();
    headBias.dispose();
  }
}
