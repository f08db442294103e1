import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs-runtime.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * AdamW (decoupled weight decay, applied to matrices only) with moments held in tfjs tensors, so they can be
 * read into a checkpoint and restored exactly.
 */
export class AdamW {
  readonly options: AdamWOptions;
  /** Completed updates (for bias correction). */
  step = 0;
  readonly #tf: Tf;
  readonly #m = new Map<string, TF.Tensor>();
  readonly #v = new Map<string, TF.Tensor>();

  constructor(tf: Tf, options: AdamWOptions) {
    this.#tf = tf;
    this.options = options;
  }

  /** Applies one update with learning rate `lr`; `grads` are already clipped / averaged. */
  apply(variables: ReadonlyMap<string, TF.Variable>, grads: ReadonlyMap<string, TF.Tensor>, lr: number): void {
    const tf = this.#tf;
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    for (const [name, variable] of variables) {
      const g = grads.get(name);
      if (!g) continue;
      const mOld = this.#m.get(name);
      const vOld = this.#v.get(name);
      const [m, v] = tf.tidy(() => {
        const m = mOld ? tf.add(tf.mul(mOld, beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1);
        const v = vOld ? tf.add(tf.mul(vOld, beta2), tf.mul(tf.square(g), 1 - beta2)) : tf.mul(tf.square(g), 1 - beta2);
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const decay = variable.rank >= 2 && weightDecay > 0 ? tf.mul(variable, 1 - lr * weightDecay) : variable;
        variable.assign(tf.sub(decay, tf.mul(update, lr)));
        return [m, v];
      });
      mOld?.dispose();
      vOld?.dispose();
      this.#m.set(name, m);
      this.#v.set(name, v);
    }
  }

  /** Moments as JS arrays, for a checkpoint. */
  state(): { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> } {
    const read = (map: Map<string, TF.Tensor>) =>
      new Map([...map].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
    return { step: this.step, m: read(this.#m), v: read(this.#v) };
  }

  restore(
    state: { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> },
    shapes: ReadonlyMap<string, number[]>,
  ): void {
    this.dispose();
    this.step = state.step;
    for (const [name, values] of state.m) this.#m.set(name, this.#tf.tensor(values, shapes.get(name)));
    for (const [name, values] of state.v) this.#v.set(name, this.#tf.tensor(values, shapes.get(name)));
  }

  dispose(): void {
    for (const t of this.#m.values()) t.dispose();
    for (const t of this.#v.values()) t.dispose();
    this.#m.clear();
    this.#v.clear();
  }
}
