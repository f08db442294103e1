import { type Backend, generate, type LoadedModel, type ModelInput, SlmError } from '@slmkit/core';
import type { BenchSubject, SubjectRuntime, TimedGeneration } from './subject.js';

/** A BenchSubject over an slmkit backend: load is timed here, generation goes through core's `generate`. */
export class LoadedModelSubject implements BenchSubject {
  readonly model: LoadedModel;
  readonly runtime: SubjectRuntime;
  readonly #backend: Backend;

  private constructor(backend: Backend, model: LoadedModel, loadMs: number) {
    this.#backend = backend;
    this.model = model;
    const info = model.info;
    this.runtime = {
      backend: info.backend,
      device: info.device,
      threads: info.threads,
      weightType: info.weightType,
      loadMs,
      ...(info.details
        ? { details: { ...info.details, backendLoadMs: info.loadMs } }
        : { details: { backendLoadMs: info.loadMs } }),
    };
  }

  /** Loads `input`; load time is the wall time of `backend.load` measured by bench. */
  static async open(
    backend: Backend,
    input: ModelInput,
    options: { threads?: number; contextSize?: number; signal?: AbortSignal },
  ): Promise<LoadedModelSubject> {
    const started = performance.now();
    const model = await backend.load(input, options);
    return new LoadedModelSubject(backend, model, performance.now() - started);
  }

  encode(text: string): number[] {
    return this.model.tokenizer.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.model.tokenizer.decode(ids);
  }

  /**
   * Time to evaluate `ids` on an empty sequence with last-position logits. Where the backend cannot return logits
   * (UnsupportedFeatureError, e.g. a server without log-probabilities), the time to the first token of a one-token
   * greedy generation instead.
   */
  async prefill(ids: readonly number[], signal?: AbortSignal): Promise<number> {
    const sequence = await this.model.createSequence();
    try {
      const started = performance.now();
      try {
        await sequence.forward(ids, { logits: 'last', signal });
      } catch (error) {
        if (!(SlmError.isInstance(error) && error.code === 'UNSUPPORTED_FEATURE')) throw error;
        const run = await this.generate(ids, 1, signal);
        return run.tokenTimesMs[0];
      }
      return performance.now() - started;
    } finally {
      await sequence.dispose();
    }
  }

  async generate(ids: readonly number[], maxTokens: number, signal?: AbortSignal): Promise<TimedGeneration> {
    const tokens: number[] = [];
    const tokenTimesMs: number[] = [];
    const started = performance.now();
    for await (const part of generate({
      model: this.model,
      prompt: ids,
      maxTokens,
      temperature: 0,
      stopTokens: [],
      seed: 1,
      signal,
    })) {
      if (part.type === 'token') {
        tokenTimesMs.push(performance.now() - started);
        tokens.push(part.id);
      }
    }
    return { tokens, tokenTimesMs };
  }

  async acceleratorBytes(): Promise<number | undefined> {
    const value = this.model.info.details?.acceleratorBytes;
    return typeof value === 'number' ? value : undefined;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
    await this.#backend.dispose();
  }
}
