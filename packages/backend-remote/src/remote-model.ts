import {
  BackendError,
  checkForwardInput,
  checkTruncateLength,
  type ForwardOptions,
  type GenerateTokensOptions,
  type LoadedModel,
  Logits,
  type ModelRuntimeInfo,
  type ModelSpec,
  type NativeSamplingOptions,
  resolveContextSize,
  type Sequence,
  type SequenceCounters,
  type SequenceOptions,
  type Tokenizer,
  throwIfAborted,
  UnsupportedFeatureError,
} from '@slmkit/core';
import type { HttpClient } from './http-client.js';
import type { CompletionChoice, CompletionResponse } from './openai-types.js';

/** Logit given to vocabulary entries the server did not list among its top log-probabilities. */
export const REMOTE_LOGIT_FLOOR = -1e4;

export interface RemoteModelSettings {
  client: HttpClient;
  /** The model's name on the server. */
  modelId: string;
  spec: ModelSpec;
  tokenizer: Tokenizer;
  contextSize: number;
  info: ModelRuntimeInfo;
  /** How many top log-probabilities to ask for when logits are needed. Default 5 (OpenAI's limit). */
  topLogprobs: number;
}

/**
 * A sequence on a stateless HTTP server: the "cache" is the token history kept here and re-sent with every
 * request (servers with prefix caching, such as llama.cpp and vLLM, reuse their own KV cache for it).
 */
class RemoteSequence implements Sequence {
  readonly contextSize: number;
  readonly counters: SequenceCounters = { evaluatedTokens: 0, forwardCalls: 0 };
  readonly #settings: RemoteModelSettings;
  #tokens: number[] = [];
  #disposed = false;

  constructor(settings: RemoteModelSettings, contextSize: number) {
    this.#settings = settings;
    this.contextSize = contextSize;
  }

  get tokens(): readonly number[] {
    return this.#tokens;
  }

  #live(): void {
    if (this.#disposed) throw new BackendError('the sequence was disposed');
  }

  /**
   * The id of a token given as text by the server (OpenAI lists top log-probabilities by text, e.g. " the"): the
   * vocabulary entry itself, its SentencePiece (`▁`) or byte-level (`Ġ`) spelling, or a text that encodes to one id.
   */
  #idOf(text: string): number | undefined {
    const t = this.#settings.tokenizer;
    for (const candidate of [text, text.replaceAll(' ', '\u2581'), text.replaceAll(' ', '\u0120')]) {
      const id = t.tokenToId(candidate);
      if (id !== undefined) return id;
    }
    // A one-byte text may be a byte-fallback token (`<0x2B>`); collisions between a byte token and a piece with
    // the same text cannot be told apart from text, and multi-byte fragments (U+FFFD) are lost.
    const bytes = new TextEncoder().encode(text);
    if (bytes.length === 1) {
      const id = t.tokenToId(`<0x${bytes[0].toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) return id;
    }
    const ids = t.encode(text, { addSpecialTokens: false });
    return ids.length === 1 ? ids[0] : undefined;
  }

  /** Logits rebuilt from the server's top log-probabilities: listed ids get their log-probability, others the floor. */
  #row(top: Record<string, number> | null | undefined, out: Float32Array): void {
    out.fill(REMOTE_LOGIT_FLOOR);
    if (!top) return;
    for (const [text, logprob] of Object.entries(top)) {
      const id = this.#idOf(text);
      if (id !== undefined && id >= 0 && id < out.length) out[id] = Math.max(out[id], logprob);
    }
  }

  async forward(tokens: readonly number[], options: ForwardOptions = {}): Promise<Logits> {
    this.#live();
    const { spec, client, modelId, topLogprobs } = this.#settings;
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, spec.vocabSize);
    throwIfAborted(options.signal);
    const want = options.logits ?? 'last';
    const start = this.#tokens.length;
    const all = [...this.#tokens, ...tokens];
    if (want === 'none') {
      this.#tokens = all;
      this.counters.evaluatedTokens += tokens.length;
      this.counters.forwardCalls++;
      return Logits.empty(spec.vocabSize);
    }
    // Echo the prompt with log-probabilities and generate one token: entry i of top_logprobs is the distribution
    // of position i given the tokens before it, so input position j is predicted by entry j + 1.
    const response = await client.postJson<CompletionResponse>(
      '/v1/completions',
      {
        model: modelId,
        prompt: all,
        max_tokens: 1,
        temperature: 0,
        echo: want === 'all',
        logprobs: topLogprobs,
        return_tokens: true,
      },
      options.signal,
    );
    const choice = response.choices?.[0];
    const top = choice?.logprobs?.top_logprobs;
    if (
      (!top || top.length === 0 || Object.keys(top[top.length - 1] ?? {}).length === 0) &&
      want === 'last' &&
      choice
    ) {
      // No top log-probabilities (e.g. `slm serve`): the greedy token the server chose is the only known entry, which
      // is enough for greedy decoding and timing, not for scoring.
      const id = this.#serverIds(choice, response.tokens)?.[0] ?? this.#idOf(choice.text);
      if (id !== undefined && id >= 0 && id < spec.vocabSize) {
        const data = new Float32Array(spec.vocabSize).fill(REMOTE_LOGIT_FLOOR);
        data[id] = choice.logprobs?.token_logprobs?.[0] ?? 0;
        this.#tokens = all;
        this.counters.evaluatedTokens += tokens.length;
        this.counters.forwardCalls++;
        return new Logits(data, spec.vocabSize, [all.length - 1]);
      }
    }
    if (!top || top.length === 0) {
      throw new UnsupportedFeatureError('the server returns no top log-probabilities, so logits cannot be rebuilt', {
        file: client.baseUrl,
        field: 'logprobs',
      });
    }
    const rows = want === 'all' ? tokens.length : 1;
    if (want === 'all' && top.length < all.length + 1) {
      throw new UnsupportedFeatureError(
        `the server echoed ${top.length} log-probability rows for ${all.length} prompt tokens (no prompt log-probabilities)`,
        {
          file: client.baseUrl,
          field: 'echo',
        },
      );
    }
    const vocab = spec.vocabSize;
    const data = new Float32Array(rows * vocab);
    const positions: number[] = [];
    for (let r = 0; r < rows; r++) {
      const position = want === 'all' ? start + r : all.length - 1;
      const entry = want === 'all' ? top[position + 1] : top[top.length - 1];
      this.#row(entry, data.subarray(r * vocab, (r + 1) * vocab));
      positions.push(position);
    }
    this.#tokens = all;
    this.counters.evaluatedTokens += tokens.length;
    this.counters.forwardCalls++;
    return new Logits(data, vocab, positions);
  }

  async truncate(length: number): Promise<void> {
    this.#live();
    checkTruncateLength(length, this.#tokens.length);
    this.#tokens = this.#tokens.slice(0, length);
  }

  async reset(): Promise<void> {
    this.#live();
    this.#tokens = [];
  }

  supportsNativeSampling(s: NativeSamplingOptions): boolean {
    // Greedy needs nothing but the argmax; sampling settings go as OpenAI fields (top_k as the common extension).
    if (s.repeatPenalty !== 1) return false;
    return s.temperature === 0 || s.minP === 0;
  }

  /** The server's own ids for a streamed choice (`tokens`, a llama.cpp extension), when it sends them. */
  #serverIds(choice: CompletionChoice, extra: number[] | undefined): number[] | undefined {
    const ids = choice.tokens ?? extra;
    return Array.isArray(ids) && ids.every((t) => Number.isInteger(t)) ? ids : undefined;
  }

  async *generateTokens(tokens: readonly number[], options: GenerateTokensOptions): AsyncIterable<number> {
    this.#live();
    const { spec, client, modelId } = this.#settings;
    checkForwardInput(tokens, this.#tokens.length, this.contextSize, spec.vocabSize);
    const prompt = [...this.#tokens, ...tokens];
    const room = this.contextSize - prompt.length;
    const maxTokens = Math.max(0, Math.min(options.maxTokens, room + 1));
    const s = options.sampling;
    const stops = new Set(options.stopTokens);
    const body = {
      model: modelId,
      prompt,
      max_tokens: maxTokens,
      temperature: s.temperature,
      top_p: s.topP,
      ...(s.topK > 0 ? { top_k: s.topK } : {}),
      seed: s.seed,
      presence_penalty: s.presencePenalty,
      frequency_penalty: s.frequencyPenalty,
      stream: true,
      // llama.cpp / vLLM extensions: token ids in the stream, and no early end when the caller ignores EOS.
      return_tokens: true,
      ...(stops.size === 0 ? { ignore_eos: true } : {}),
    };
    const generated: number[] = [];
    let finish: string | null | undefined;
    this.#tokens = prompt;
    this.counters.evaluatedTokens += tokens.length;
    this.counters.forwardCalls++;
    try {
      // Without server ids, the text is re-encoded after the decoded prompt (so spaces join as the tokenizer
      // joins them) and the last id is held back until more text arrives, as it may still merge.
      const tokenizer = this.#settings.tokenizer;
      const promptText = tokenizer.decode(prompt);
      const promptIds = tokenizer.encode(promptText);
      let text = '';
      let fromText: number[] = [];
      const emit = function* (this: RemoteSequence, id: number): Generator<number, boolean> {
        if (generated.length >= maxTokens) return true;
        if (generated.length > 0) this.#tokens.push(generated[generated.length - 1]);
        generated.push(id);
        yield id;
        return stops.has(id);
      }.bind(this);
      for await (const chunk of client.postSse<CompletionResponse>('/v1/completions', body, options.signal)) {
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const ids = this.#serverIds(choice, chunk.tokens);
        if (ids) {
          for (const id of ids) if (yield* emit(id)) return;
        } else if (choice.text) {
          text += choice.text;
          fromText = tokenizer.encode(promptText + text).slice(promptIds.length);
          while (generated.length < fromText.length - 1) if (yield* emit(fromText[generated.length])) return;
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      while (generated.length < fromText.length) if (yield* emit(fromText[generated.length])) return;
      // The server stopped on end-of-sequence without sending it: report the stop id as the contract asks.
      const eos = this.#settings.tokenizer.special.eos;
      if (finish === 'stop' && generated.length < maxTokens && eos !== undefined && stops.has(eos)) {
        if (generated.length > 0) this.#tokens.push(generated[generated.length - 1]);
        generated.push(eos);
        yield eos;
      }
    } finally {
      this.counters.evaluatedTokens += Math.max(0, generated.length - 1);
    }
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#tokens = [];
  }
}

/** A model served over HTTP. */
export class RemoteModel implements LoadedModel {
  readonly spec: ModelSpec;
  readonly tokenizer: Tokenizer;
  readonly contextSize: number;
  readonly info: ModelRuntimeInfo;
  readonly #settings: RemoteModelSettings;
  readonly #sequences = new Set<RemoteSequence>();
  #disposed = false;

  constructor(settings: RemoteModelSettings) {
    this.#settings = settings;
    this.spec = settings.spec;
    this.tokenizer = settings.tokenizer;
    this.contextSize = settings.contextSize;
    this.info = settings.info;
  }

  async createSequence(options: SequenceOptions = {}): Promise<Sequence> {
    if (this.#disposed) throw new BackendError('the model was disposed');
    const size = resolveContextSize(options.contextSize, this.contextSize);
    const sequence = new RemoteSequence(this.#settings, size);
    this.#sequences.add(sequence);
    return sequence;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const s of this.#sequences) await s.dispose();
    this.#sequences.clear();
  }
}
