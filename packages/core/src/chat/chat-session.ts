import { ContextOverflowError, InvalidArgumentError } from '../errors/index.js';
import { DEFAULT_MAX_TOKENS, generate } from '../generation/generate.js';
import type { FinishReason, GeneratePart, GenerationTimings, Usage } from '../generation/generate-parts.js';
import type { SamplingOptions } from '../generation/sampling-options.js';
import type { LoadedModel, Sequence, SequenceCounters } from '../model/backend.js';
import type { ChatMessage } from './chat-message.js';
import { type ChatPrompt, ChatTemplate } from './chat-template.js';

export interface ChatSendOptions extends SamplingOptions {
  /** Longest answer in tokens. Default: the session's `maxTokens` (256). */
  maxTokens?: number;
  /** Extra stop strings (the template's own, e.g. `\nUser:` for the fallback, always apply). */
  stop?: readonly string[];
  logprobs?: boolean;
  /** Stops this answer; the partial answer is kept in the history and the stream ends with reason `abort`. */
  signal?: AbortSignal;
}

export interface ChatSessionOptions extends SamplingOptions {
  model: LoadedModel;
  systemPrompt?: string;
  /** A Jinja template (or a compiled one) instead of the model's own; default the model's, else the fallback. */
  template?: string | ChatTemplate;
  /** Context window of the session's sequence; default the model's loaded context size. */
  contextSize?: number;
  /** Default answer length for `send`. Default 256. */
  maxTokens?: number;
  /**
   * Tokens kept free for the answer when the history is fitted into the context window.
   * Default: the smaller of `maxTokens` and a quarter of the context.
   */
  reserveTokens?: number;
}

/** What `ChatSession.send` streams: generation parts, plus a note when old turns were dropped to make room. */
export type ChatPart = GeneratePart | { type: 'history-trimmed'; droppedMessages: number; promptTokens: number };

export interface ChatReply {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  timings: GenerationTimings;
  /** Messages dropped from the start of the history to fit the context before this answer. */
  droppedMessages: number;
}

/** What the previous turn put in the cache, so the next prompt can keep the model's own answer ids. */
interface LastTurn {
  promptText: string;
  promptIds: readonly number[];
  answerIds: readonly number[];
  answerText: string;
}

/**
 * A conversation with one model that keeps one KV-cache sequence across turns: each turn renders the whole
 * conversation with the chat template and hands it to `generate` with the same `sequence`, so only the tokens after
 * the shared prefix (the previous answer's tail, the new user message, the template's markers) are evaluated.
 *
 * **Full context window.** Before each answer the session makes sure prompt + `reserveTokens` fit the context. If
 * not, it drops whole turns from the oldest end of the history (a user message and the assistant answers after
 * it), always keeping the system prompt and the new user message, and reports a `history-trimmed` part; dropped
 * turns are gone for good. The cache is then re-used only up to the system prompt. If the system prompt and the
 * new message alone exceed the context, `send` throws ContextOverflowError; if they fit but leave less than the
 * reserve, the answer simply gets the room that is left (it ends with reason `context-full`).
 *
 * **Aborting.** An aborted answer ends the stream with reason `abort`; the partial answer stays in the history.
 * A backend that computes synchronously (the reference backend) never gives the event loop a turn by itself: a
 * consumer that must see Ctrl-C or socket events mid-answer yields (e.g. `setImmediate`) after each `token` part,
 * as `slm chat` and `slm serve` do.
 */
export class ChatSession {
  readonly model: LoadedModel;
  readonly template: ChatTemplate;
  readonly #sequence: Sequence;
  readonly #defaults: SamplingOptions;
  readonly #maxTokens: number;
  readonly #reserve: number | undefined;
  #systemPrompt: string | undefined;
  #history: ChatMessage[] = [];
  #busy = false;
  #lastUsage: Usage | undefined;
  #lastTimings: GenerationTimings | undefined;
  #lastTurn: LastTurn | undefined;

  private constructor(options: ChatSessionOptions, template: ChatTemplate, sequence: Sequence) {
    const { model, systemPrompt, template: _t, contextSize: _c, maxTokens, reserveTokens, ...sampling } = options;
    this.model = model;
    this.template = template;
    this.#sequence = sequence;
    this.#defaults = sampling;
    this.#maxTokens = maxTokens ?? DEFAULT_MAX_TOKENS;
    this.#reserve = reserveTokens;
    this.#systemPrompt = systemPrompt;
  }

  /** Creates a session and its sequence. */
  static async create(options: ChatSessionOptions): Promise<ChatSession> {
    const template =
      options.template instanceof ChatTemplate
        ? options.template
        : new ChatTemplate(
            options.model.tokenizer,
            options.template !== undefined ? { template: options.template } : {},
          );
    for (const [field, value] of [
      ['maxTokens', options.maxTokens],
      ['reserveTokens', options.reserveTokens],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
        throw new InvalidArgumentError(`must be an integer >= 0, got ${value}`, { field, value });
      }
    }
    const sequence = await options.model.createSequence(
      options.contextSize !== undefined ? { contextSize: options.contextSize } : {},
    );
    return new ChatSession(options, template, sequence);
  }

  /** The conversation so far (without the system prompt). */
  get history(): readonly ChatMessage[] {
    return this.#history;
  }

  /** The system prompt followed by the history: what the template renders. */
  get messages(): ChatMessage[] {
    return this.#systemPrompt !== undefined && this.#systemPrompt.length > 0
      ? [{ role: 'system', content: this.#systemPrompt }, ...this.#history]
      : [...this.#history];
  }

  get systemPrompt(): string | undefined {
    return this.#systemPrompt;
  }

  /** Sets (or with undefined, removes) the system prompt; the history is kept. */
  setSystemPrompt(text: string | undefined): void {
    this.#systemPrompt = text;
  }

  get contextSize(): number {
    return this.#sequence.contextSize;
  }

  /** The sequence's counters: tokens evaluated and forward calls since the session began. */
  get counters(): Readonly<SequenceCounters> {
    return this.#sequence.counters;
  }

  /** Tokens now in the KV cache. */
  get cachedTokens(): number {
    return this.#sequence.tokens.length;
  }

  get lastUsage(): Usage | undefined {
    return this.#lastUsage;
  }

  get lastTimings(): GenerationTimings | undefined {
    return this.#lastTimings;
  }

  /** Forgets the conversation (the system prompt stays; its cached tokens are reused by the next turn). */
  reset(): void {
    this.#assertIdle();
    this.#history = [];
    this.#lastTurn = undefined;
  }

  /** Renders the conversation plus `pending` as the next prompt, dropping old turns until it fits. */
  #fit(pending: ChatMessage, maxTokens: number): { prompt: ChatPrompt; dropped: number } {
    const context = this.#sequence.contextSize;
    const reserve = Math.min(this.#reserve ?? Math.min(maxTokens, Math.floor(context / 4)), context - 1);
    let dropped = 0;
    for (;;) {
      const prompt = this.#continue(this.template.render([...this.messages, pending]));
      if (prompt.ids.length + reserve <= context) return { prompt, dropped };
      const next = this.#history.findIndex((m, i) => i > 0 && m.role === 'user');
      if (this.#history.length === 0) {
        if (prompt.ids.length < context) return { prompt, dropped };
        throw new ContextOverflowError(prompt.ids.length + 1, context, { field: 'message' });
      }
      const cut = next === -1 ? this.#history.length : next;
      this.#history.splice(0, cut);
      dropped += cut;
    }
  }

  /**
   * Re-tokenizing a rendered answer need not give the ids the model sampled (a model may pick a non-canonical
   * split), which would make the cache miss from that point. When the new rendering extends the previous prompt
   * and contains the answer right after it, the prompt is built from the previous prompt's ids, the answer's own
   * ids, and the tokenized rest, so the whole cache is reused. Otherwise the plain rendering is used.
   */
  #continue(rendered: ChatPrompt): ChatPrompt {
    const last = this.#lastTurn;
    if (!last || !rendered.text.startsWith(last.promptText)) return rendered;
    const rest = rendered.text.slice(last.promptText.length);
    const at = rest.indexOf(last.answerText);
    if (at < 0 || rest.slice(0, at).trim().length > 0) return rendered;
    const tokenizer = this.model.tokenizer;
    // The shortest run of answer ids that decodes to the answer text (stop-string tokens are left out).
    let answerIds: readonly number[] | undefined;
    for (let n = 0; n <= last.answerIds.length; n++) {
      if (tokenizer.decode(last.answerIds.slice(0, n)).trim() === last.answerText) {
        answerIds = last.answerIds.slice(0, n);
        break;
      }
    }
    if (!answerIds) return rendered;
    const tail = rest.slice(at + last.answerText.length);
    const tailIds =
      tail.length > 0 ? tokenizer.encode(tail, { addSpecialTokens: false, parseSpecialTokens: true }) : [];
    return { text: rendered.text, ids: [...last.promptIds, ...answerIds, ...tailIds] };
  }

  #assertIdle(): void {
    if (this.#busy) {
      throw new InvalidArgumentError('the session is still answering; wait for the answer or abort it first', {
        field: 'session',
      });
    }
  }

  /**
   * Adds a user message and streams the answer: `history-trimmed` (if old turns were dropped), then the `token`,
   * `text-delta` and `finish` parts of `generate`. The answer joins the history when the stream ends.
   */
  async *send(content: string, options: ChatSendOptions = {}): AsyncGenerator<ChatPart, void, undefined> {
    if (typeof content !== 'string') {
      throw new InvalidArgumentError('the message must be a string', { field: 'content', value: content });
    }
    this.#assertIdle();
    this.#busy = true;
    try {
      const { maxTokens: max, stop, logprobs, signal, ...sampling } = options;
      const maxTokens = max ?? this.#maxTokens;
      const user: ChatMessage = { role: 'user', content };
      const { prompt, dropped } = this.#fit(user, maxTokens);
      if (dropped > 0) yield { type: 'history-trimmed', droppedMessages: dropped, promptTokens: prompt.ids.length };
      this.#history.push(user);
      let text = '';
      const answerIds: number[] = [];
      let stoppedByToken = false;
      let failed = false;
      try {
        for await (const part of generate({
          ...this.#defaults,
          ...sampling,
          model: this.model,
          prompt: prompt.ids,
          sequence: this.#sequence,
          maxTokens,
          stop: [...this.template.stop, ...(stop ?? [])],
          logprobs,
          signal,
          stopOnAbort: true,
        })) {
          if (part.type === 'text-delta') text += part.text;
          if (part.type === 'token') answerIds.push(part.id);
          if (part.type === 'finish') {
            stoppedByToken = part.finishReason === 'stop' && part.stopSequence === undefined;
            this.#lastUsage = part.usage;
            this.#lastTimings = part.timings;
          }
          yield part;
        }
      } catch (error) {
        failed = true;
        this.#history.pop();
        throw error;
      } finally {
        // Keep what was said, even when the consumer stopped reading early.
        if (!failed) {
          const content = text.trim();
          this.#history.push({ role: 'assistant', content });
          if (stoppedByToken) answerIds.pop();
          this.#lastTurn = { promptText: prompt.text, promptIds: prompt.ids, answerIds, answerText: content };
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Sends a message and waits for the whole answer. */
  async reply(content: string, options: ChatSendOptions = {}): Promise<ChatReply> {
    let text = '';
    let dropped = 0;
    for await (const part of this.send(content, options)) {
      if (part.type === 'text-delta') text += part.text;
      else if (part.type === 'history-trimmed') dropped = part.droppedMessages;
      else if (part.type === 'finish') {
        return {
          text,
          finishReason: part.finishReason,
          usage: part.usage,
          timings: part.timings,
          droppedMessages: dropped,
        };
      }
    }
    throw new Error('generate ended without a finish part');
  }

  /** Frees the sequence. */
  async dispose(): Promise<void> {
    this.#history = [];
    await this.#sequence.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
