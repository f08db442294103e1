import { InvalidArgumentError, parameterCount } from '@slmkit/core';
import type { TfjsClassifier } from './tfjs-classifier.js';
import { type TrainClassifierOptions, type TrainedClassifier, trainClassifier } from './train-classifier.js';

export interface DistillClassifierOptions extends Omit<TrainClassifierOptions, 'distill' | 'mode' | 'labels'> {
  /** Default DEFAULT_DISTILL_TEMPERATURE. */
  temperature?: number;
  /** Weight of the soft-label (KL) term. Default DEFAULT_DISTILL_ALPHA. */
  alpha?: number;
  /** Largest student/teacher parameter ratio allowed (DistilBERT: 0.6). Default 1 (no check). */
  maxParamRatio?: number;
}

/**
 * Trains a student classifier on a teacher classifier's soft labels (its logits at temperature T, KL mixed with the
 * cross-entropy on the true labels). The student has the teacher's labels and tokenizer.
 */
export async function distillClassifier(
  teacher: TfjsClassifier,
  options: DistillClassifierOptions,
): Promise<TrainedClassifier> {
  const studentSpec = options.backbone.spec;
  const ratio = parameterCount(studentSpec) / parameterCount(teacher.spec);
  if (ratio > (options.maxParamRatio ?? 1)) {
    throw new InvalidArgumentError(`the student has ${(ratio * 100).toFixed(1)}% of the teacher's parameters`, {
      field: 'backbone',
      value: ratio,
    });
  }
  const teacherLogits = await teacher.logits(
    options.examples.map((e) => e.text),
    { signal: options.signal, batchSize: 64 },
  );
  return trainClassifier({
    ...options,
    mode: 'full',
    labels: teacher.head.labels,
    distill: { teacherLogits, temperature: options.temperature, alpha: options.alpha },
  });
}
