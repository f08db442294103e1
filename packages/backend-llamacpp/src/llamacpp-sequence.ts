import {
  AbortError,
  BackendError,
  checkForwardInput,
  checkTruncateLength,
  type ForwardOptions,
  type GenerateTokensOptions,
  InvalidArgumentError,
  Logits,
  type NativeSamplingOptions,
  type Sequence,
  type SequenceCounters,
  SlmError,
  throwIfAborted,
} from '@slmkit/core';
import type { LlamaContext } from 'node-llama-cpp';
import { denseLogits, type NativeBinding, type NativeSampler } from './native-binding.js';

export interface LlamaCppSequenceSettings {
  contextSize: number;
  /** Most tokens per native batch (prefill is split into batches of this size). */
  batchSize: number;
  vocabSize: number;
}

/**
 * A KV-cache slot on its own llama.cpp context. The token list mirrors the native cache exactly: tokens are added only
 * after a batch decodes, and a failed or aborted forward removes whatever it had added.
 */
export class LlamaCppSequence implements Sequence {
  readonly contextSize: number;
  readonly #settings: LlamaCppSequenceSettings;
  readonly #context: LlamaContext;
  readonly #native: NativeBinding;
  readonly #greedy: NativeSampler;
  readonly #onDispose: () => void;
  readonly #tokens: number[] = [];
  readonly #counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  #tail: Promise<void> = Promise.resolve();
  #disposed = false;

  constructor(context: LlamaContext, native: NativeBinding, settings: LlamaCppSequenceSettings, onDispose: () => void) {
    this.#context = context;
    this.#native = native;
    this.#settings = settings;
    this.contextSize = settings.contextSize;
    this.#onDispose = onDispose;
    this.#greedy = native.createSampler();
    this.#greedy.applyConfig({ temperature: 0 });
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  get counters(): Readonly<SequenceCounters> {
    return this.#counters;
  }

  /** Waits for every earlier operation on this sequence; returns the function that lets the next one run. */
  async #acquire(): Promise<() => void> {
    let release: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => mine);
    await previous;
    if (this.#disposed) {
      release();
      throw new BackendError('the sequence is disposed', { field: 'sequence' });
    }
    return release;
  }

  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.#acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Decodes `tokens` after the cache in batches of `batchSize`, calling `onOutput` for each position in `wanted`
   * (indexes into `tokens`, ascending) while its logits are available. On any error or abort the cache is rolled
   * back to where it was.
   */
  async #decode(
    tokens: readonly number[],
    wanted: readonly number[],
    signal: AbortSignal | undefined,
    onOutput: (batchIndex: number) => Promise<void>,
  ): Promise<void> {
    const { context, sequenceId } = this.#native;
    const start = this.#tokens.length;
    const batchSize = this.#settings.batchSize;
    let w = 0;
    try {
      for (let offset = 0; offset < tokens.length; offset += batchSize) {
        if (signal?.aborted) throw new AbortError('Evaluation was aborted', { cause: signal.reason });
        const chunk = tokens.length <= batchSize ? tokens : tokens.slice(offset, offset + batchSize);
        const logitIndexes: number[] = [];
        while (w < wanted.length && wanted[w] < offset + chunk.length) logitIndexes.push(wanted[w++] - offset);
        context.initBatch(chunk.length);
        const batchIndexes = context.addToBatch(
          sequenceId,
          start + offset,
          Uint32Array.from(chunk),
          Uint32Array.from(logitIndexes),
        );
        await context.decodeBatch();
        this.#counters.forwardCalls++;
        this.#counters.evaluatedTokens += chunk.length;
        for (const token of chunk) this.#tokens.push(token);
        for (const batchIndex of batchIndexes) await onOutput(batchIndex);
      }
    } catch (error) {
      this.#rollback(start);
      if (SlmError.isInstance(error)) throw error;
      throw new BackendError(`llama.cpp failed to evaluate ${tokens.length} tokens: ${String(error)}`, {
        field: 'tokens',
        cause: error,
      });
    }
  }

  #rollback(length: number): void {
    if (this.#tokens.length > length) {
      this.#native.context.removeTokenCellsFromSequence(this.#native.sequenceId, length, -1);
      this.#tokens.length = length;
    }
  }

  forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    return this.#exclusive(async () => {
      checkForwardInput(tokens, this.#tokens.length, this.contextSize, this.#settings.vocabSize);
      throwIfAborted(options.signal, 'Evaluation');
      const mode = options.logits ?? 'last';
      const start = this.#tokens.length;
      const vocab = this.#settings.vocabSize;
      const wanted = mode === 'all' ? tokens.map((_, i) => i) : mode === 'last' ? [tokens.length - 1] : [];
      const data = new Float32Array(wanted.length * vocab);
      let row = 0;
      await this.#decode(tokens, wanted, options.signal, async (batchIndex) => {
        const [, , , pairs] = await this.#native.context.sampleToken(batchIndex, this.#greedy, false, false, true);
        if (!pairs) throw new BackendError('llama.cpp returned no logits', { field: 'logits' });
        denseLogits(pairs, vocab, data.subarray(row * vocab, (row + 1) * vocab));
        row++;
      });
      return new Logits(
        data,
        vocab,
        wanted.map((i) => start + i),
      );
    });
  }

  truncate(length: number): Promise<void> {
    return this.#exclusive(async () => {
      checkTruncateLength(length, this.#tokens.length);
      this.#rollback(length);
    });
  }

  reset(): Promise<void> {
    return this.#exclusive(async () => this.#rollback(0));
  }

  /** Greedy decoding without repetition penalties is the setting llama.cpp reproduces exactly. */
  supportsNativeSampling(sampling: NativeSamplingOptions): boolean {
    return (
      sampling.temperature === 0 &&
      sampling.repeatPenalty === 1 &&
      sampling.presencePenalty === 0 &&
      sampling.frequencyPenalty === 0
    );
  }

  /**
   * The fast path: prefill, then per token one native decode and one native greedy sample, with no logits copied
   * to JavaScript. The loop holds the sequence until it ends, so nothing interleaves with it.
   */
  async *generateTokens(tokens: readonly number[], options: GenerateTokensOptions): AsyncIterable<number> {
    if (!this.supportsNativeSampling(options.sampling)) {
      throw new InvalidArgumentError('generateTokens runs only greedy sampling without penalties', {
        field: 'sampling',
      });
    }
    const release = await this.#acquire();
    try {
      checkForwardInput(tokens, this.#tokens.length, this.contextSize, this.#settings.vocabSize);
      const stop = new Set(options.stopTokens);
      const { context } = this.#native;
      let pending: readonly number[] = tokens;
      for (let count = 0; count < options.maxTokens; count++) {
        throwIfAborted(options.signal, 'Generation');
        let id = -1;
        await this.#decode(pending, [pending.length - 1], options.signal, async (batchIndex) => {
          id = await context.sampleToken(batchIndex, this.#greedy);
        });
        if (id < 0) throw new BackendError('llama.cpp sampled no token', { field: 'sampling' });
        yield id;
        if (stop.has(id) || this.#tokens.length + 1 > this.contextSize) return;
        pending = [id];
      }
    } finally {
      release();
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    const release = await this.#acquire();
    this.#disposed = true;
    release();
    this.#greedy.dispose();
    await this.#context.dispose();
    this.#onDispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
