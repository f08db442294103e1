import { type ModelSpec, LlamaTensorNames as N } from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';
import {
  createForwardConstants,
  disposeForwardConstants,
  type ForwardConstants,
  forwardLogits,
  type TrainableParams,
} from '../training/trainable-llama.js';

/**
 * The classifier's forward pass, built on the tfjs engineer's trainable Llama (`forwardLogits`): its final
 * projection is swapped for the classifier head (or an identity, for hidden states). Because the head is linear,
 * mean-pooling per-token head outputs equals applying the head to the mean-pooled hidden state, which is the model
 * core's TextClassifier runs (pooled final hidden states after the output norm).
 */
export interface ClassifierVariables {
  backbone: TrainableParams;
  /** [dim, labels] (the transpose of core's ClassifierHead.weight). */
  headWeight: TF.Tensor2D;
  /** [labels] */
  headBias: TF.Tensor1D;
}

/** Caches forward constants (RoPE tables, causal mask) per padded length. */
export class ConstantsCache {
  readonly #tf: Tf;
  readonly #spec: ModelSpec;
  readonly #byLength = new Map<number, ForwardConstants>();

  constructor(tf: Tf, spec: ModelSpec) {
    this.#tf = tf;
    this.#spec = spec;
  }

  get(seqLen: number): ForwardConstants {
    let c = this.#byLength.get(seqLen);
    if (!c) {
      c = createForwardConstants(this.#tf, this.#spec, seqLen);
      // kept: the cache may first be asked inside a tidy / variableGrads scope, which would dispose them.
      for (const t of [c.cos, c.sin, c.mask, c.sign]) this.#tf.keep(t);
      this.#byLength.set(seqLen, c);
    }
    return c;
  }

  dispose(): void {
    for (const c of this.#byLength.values()) disposeForwardConstants(c);
    this.#byLength.clear();
  }
}

/** Per-token outputs [B*T, out] of the backbone followed by `projection` [dim, out] (call inside a tidy). */
function projectedTokens(
  tf: Tf,
  spec: ModelSpec,
  backbone: TrainableParams,
  projection: TF.Tensor2D,
  ids: Int32Array,
  batch: number,
  c: ForwardConstants,
): TF.Tensor2D {
  const variables = new Map(backbone.variables);
  variables.set(N.output, projection as TF.Variable);
  return forwardLogits(tf, { ...spec, tiedEmbeddings: false }, { variables }, ids, batch, c);
}

/** [B, T, 1] weights 1/length on real tokens, 0 on padding. */
function meanMask(tf: Tf, lengths: Int32Array, seqLen: number): TF.Tensor3D {
  const m = new Float32Array(lengths.length * seqLen);
  lengths.forEach((len, b) => {
    m.fill(1 / len, b * seqLen, b * seqLen + len);
  });
  return tf.tensor3d(m, [lengths.length, seqLen, 1]);
}

/** Classifier logits [B, labels] of a padded batch (call inside tf.tidy or variableGrads). */
export function classifierLogits(
  tf: Tf,
  spec: ModelSpec,
  vars: ClassifierVariables,
  ids: Int32Array,
  lengths: Int32Array,
  c: ForwardConstants,
): TF.Tensor2D {
  const batch = lengths.length;
  const labels = vars.headWeight.shape[1];
  const perToken = tf.reshape(projectedTokens(tf, spec, vars.backbone, vars.headWeight, ids, batch, c), [
    batch,
    c.seqLen,
    labels,
  ]);
  return tf.add(tf.sum(tf.mul(perToken, meanMask(tf, lengths, c.seqLen)), 1), vars.headBias) as TF.Tensor2D;
}

/** Mean-pooled final hidden states [B, dim] (after the output norm) of a padded batch (call inside tf.tidy). */
export function pooledHidden(
  tf: Tf,
  spec: ModelSpec,
  backbone: TrainableParams,
  identity: TF.Tensor2D,
  ids: Int32Array,
  lengths: Int32Array,
  c: ForwardConstants,
): TF.Tensor2D {
  const batch = lengths.length;
  const perToken = tf.reshape(projectedTokens(tf, spec, backbone, identity, ids, batch, c), [
    batch,
    c.seqLen,
    spec.dim,
  ]);
  return tf.sum(tf.mul(perToken, meanMask(tf, lengths, c.seqLen)), 1) as TF.Tensor2D;
}
