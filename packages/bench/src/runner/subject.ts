import type { LoadedModel } from '@slmkit/core';

/** Greedy generation with a timestamp per token. */
export interface TimedGeneration {
  tokens: number[];
  /** Milliseconds from the call to each token's arrival; [0] is the time to first token. */
  tokenTimesMs: number[];
}

export interface SubjectRuntime {
  backend: string;
  device: string;
  threads: number;
  weightType: string;
  loadMs: number;
  details?: Record<string, string | number | boolean>;
}

/**
 * What a cell measures: a model loaded by an slmkit backend or by a peer (plain node-llama-cpp, transformers.js).
 * Peers only offer generation; slmkit backends also offer the LoadedModel for logit-based scenarios.
 */
export interface BenchSubject {
  readonly runtime: SubjectRuntime;
  /** Ids for `text`, with BOS as the model's tokenizer adds it. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Evaluates `ids` on an empty cache; returns the milliseconds it took. */
  prefill(ids: readonly number[], signal?: AbortSignal): Promise<number>;
  /** Greedy generation of exactly `maxTokens` tokens (end-of-sequence ignored). */
  generate(ids: readonly number[], maxTokens: number, signal?: AbortSignal): Promise<TimedGeneration>;
  /** The loaded model, for perplexity and choice scoring; absent for peers. */
  readonly model?: LoadedModel;
  /** Accelerator memory in use, where the runtime reports it. */
  acceleratorBytes?(): Promise<number | undefined>;
  dispose(): Promise<void>;
}
