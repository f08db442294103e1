import {
  ChatTemplate,
  type GeneratePart,
  generate,
  type LoadedModel,
  type SamplingOptions,
  type Sequence,
} from '@slmkit/core';
import { SlotQueue } from './concurrency-queue.js';

/** Default number of generations a model runs at once (each holds one KV-cache sequence). */
export const DEFAULT_CONCURRENCY = 4;
/** Default number of requests that may wait for a slot before the server answers 503. */
export const DEFAULT_MAX_WAITING = 256;

export interface ServedModelOptions {
  /** The name clients pass as `model`. */
  id: string;
  model: LoadedModel;
  /**
   * Model files the web UI may download to run the model in the page (served read-only under /models/<id>/):
   * a llama2.c checkpoint with its `tokenizer`, or a Hugging Face ONNX folder (`model` = the folder).
   */
  files?: { model: string; tokenizer?: string };
  /** Generations run at once. Default {@link DEFAULT_CONCURRENCY}. */
  concurrency?: number;
  /** Requests allowed to wait. Default {@link DEFAULT_MAX_WAITING}. */
  maxWaiting?: number;
  /** A Jinja chat template instead of the model's own. */
  chatTemplate?: string;
}

export interface ServedGenerateOptions extends SamplingOptions {
  prompt: readonly number[];
  maxTokens: number;
  stop: readonly string[];
  logprobs: boolean;
  signal: AbortSignal;
  /** Called once a slot is free and generation starts, with the time spent waiting. */
  onStart?: (waitedMs: number) => void;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * One loaded model behind the server: its chat template and a pool of sequences, one per concurrent generation.
 * A request takes the free sequence whose cache shares the longest prefix with its prompt, so a client that sends
 * a growing conversation has only the new tokens evaluated.
 */
export class ServedModel {
  readonly id: string;
  readonly model: LoadedModel;
  readonly template: ChatTemplate;
  readonly files?: { model: string; tokenizer?: string };
  readonly created = Math.floor(Date.now() / 1000);
  readonly concurrency: number;
  readonly #queue: SlotQueue<Sequence>;
  readonly #sequences: Sequence[];

  private constructor(options: ServedModelOptions, sequences: Sequence[]) {
    this.id = options.id;
    this.model = options.model;
    this.files = options.files;
    this.template = new ChatTemplate(
      options.model.tokenizer,
      options.chatTemplate ? { template: options.chatTemplate } : {},
    );
    this.concurrency = sequences.length;
    this.#sequences = sequences;
    this.#queue = new SlotQueue(sequences, options.maxWaiting ?? DEFAULT_MAX_WAITING);
  }

  static async create(options: ServedModelOptions): Promise<ServedModel> {
    const n = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${n}`);
    const sequences: Sequence[] = [];
    for (let i = 0; i < n; i++) sequences.push(await options.model.createSequence());
    return new ServedModel(options, sequences);
  }

  get contextSize(): number {
    return this.#sequences[0].contextSize;
  }

  get active(): number {
    return this.#queue.active;
  }

  get waiting(): number {
    return this.#queue.waiting;
  }

  /** True when a new request would be refused (every slot busy and the waiting line full). */
  get full(): boolean {
    return this.#queue.full;
  }

  /** Waits for a slot, then streams `generate` on it; the slot is released when the stream ends or is abandoned. */
  async *generate(options: ServedGenerateOptions): AsyncGenerator<GeneratePart, void, undefined> {
    const { prompt, maxTokens, stop, logprobs, signal, onStart, ...sampling } = options;
    const queued = performance.now();
    const sequence = await this.#queue.acquire(signal, (free) => {
      let best = 0;
      let bestLength = -1;
      free.forEach((s, i) => {
        const length = commonPrefix(s.tokens, prompt);
        if (length > bestLength) {
          best = i;
          bestLength = length;
        }
      });
      return best;
    });
    try {
      onStart?.(performance.now() - queued);
      for await (const part of generate({
        ...sampling,
        model: this.model,
        prompt,
        sequence,
        maxTokens,
        stop,
        logprobs,
        signal,
      })) {
        yield part;
        // A backend may compute synchronously (the reference backend does): give the event loop a turn after each
        // token so streamed chunks go out as they are made, other requests interleave and disconnects are seen.
        if (part.type === 'token') await yieldToEventLoop();
      }
    } finally {
      this.#queue.release(sequence);
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#sequences.map((s) => s.dispose()));
    await this.model.dispose();
  }
}
