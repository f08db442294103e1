import { BackendError, throwIfAborted } from '../errors/index.js';
import type { ForwardOptions, Sequence, SequenceCounters } from './backend.js';
import { Logits } from './logits.js';
import { checkForwardInput, checkTruncateLength } from './sequence-checks.js';

/** What a one-token-at-a-time runtime provides to `StepSequence`. */
export interface TokenStepper {
  /** Evaluates `token` at `position`, appending it to the runtime's KV cache. */
  step(token: number, position: number): void;
  /** Writes the logits of the last evaluated token into `out` (length = vocabulary size). */
  writeLogits(out: Float32Array): void;
}

/**
 * A `Sequence` for runtimes that evaluate one token at a time in plain JS (core's reference model, the demo's
 * in-page runtime): token bookkeeping, logits rows, abort checks, truncate/reset/dispose. Truncation only shortens
 * the token list: the next step overwrites the cache from that position on.
 */
export class StepSequence<S extends TokenStepper = TokenStepper> implements Sequence {
  readonly contextSize: number;
  readonly counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  protected readonly vocabSize: number;
  #stepper: S | undefined;
  #tokens: number[] = [];

  constructor(stepper: S, vocabSize: number, contextSize: number) {
    this.#stepper = stepper;
    this.vocabSize = vocabSize;
    this.contextSize = contextSize;
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  /** The stepper, or a BackendError once the sequence is disposed. */
  protected live(): S {
    if (!this.#stepper) throw new BackendError('the sequence was disposed');
    return this.#stepper;
  }

  /** Evaluates one more token at the end of the sequence (counts it; no logits). */
  protected advance(token: number): void {
    this.live().step(token, this.#tokens.length);
    this.#tokens.push(token);
    this.counters.evaluatedTokens++;
  }

  async forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    const stepper = this.live();
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, this.vocabSize);
    const want = options.logits ?? 'last';
    const vocab = this.vocabSize;
    const rows = want === 'all' ? tokens.length : want === 'last' ? 1 : 0;
    const out = new Float32Array(rows * vocab);
    const positions: number[] = [];
    for (let i = 0; i < tokens.length; i++) {
      if (i > 0 && i % 16 === 0) throwIfAborted(options.signal, 'forward');
      this.advance(tokens[i]);
      if (want === 'all' || (want === 'last' && i === tokens.length - 1)) {
        stepper.writeLogits(out.subarray(positions.length * vocab, (positions.length + 1) * vocab));
        positions.push(this.#tokens.length - 1);
      }
    }
    this.counters.forwardCalls++;
    return new Logits(out, vocab, positions);
  }

  async truncate(length: number): Promise<void> {
    checkTruncateLength(length, this.#tokens.length);
    this.#tokens.length = length;
  }

  async reset(): Promise<void> {
    this.#tokens = [];
  }

  async dispose(): Promise<void> {
    this.#stepper = undefined;
    this.#tokens = [];
  }
}
