import { AbortError, ContextOverflowError, InvalidArgumentError } from '../errors/index.js';
import type { LoadedModel, NativeSamplingOptions, Sequence } from '../model/backend.js';
import { endOfGenerationIds } from '../tokenizer/tokenizer.js';
import type { FinishReason, GeneratePart, GenerationTimings, Usage } from './generate-parts.js';
import { randomSeed, SeededRandom } from './random.js';
import { logSoftmax, sampleToken } from './sampler.js';
import {
  hasPenalties,
  isGreedy,
  type ResolvedSampling,
  resolveSampling,
  type SamplingOptions,
} from './sampling-options.js';
import { StopTextMatcher } from './stop-text.js';
import { CooperativeScheduler } from './yield-to-event-loop.js';

export const DEFAULT_MAX_TOKENS = 256;

export interface GenerateOptions extends SamplingOptions {
  model: LoadedModel;
  /** Text (tokenized with the model's tokenizer, BOS added as it configures) or token ids. */
  prompt: string | readonly number[];
  /** Reuse this sequence's KV cache: only the tokens after the shared prefix are evaluated. */
  sequence?: Sequence;
  /** Default 256. Generation also ends when the context is full. */
  maxTokens?: number;
  /** Strings that end generation; the text before the first match is kept. */
  stop?: readonly string[];
  /** Token ids that end generation; default EOS and end-of-turn. */
  stopTokens?: readonly number[];
  /** Report the log-probability of each sampled token (before penalties and temperature). */
  logprobs?: boolean;
  /** Parse special-token text in a string prompt (chat templates). Default false. */
  parseSpecialTokens?: boolean;
  /**
   * Let the backend's native loop generate when it can honour the settings exactly (greedy, no logprobs).
   * Default true.
   */
  allowNativeGeneration?: boolean;
  /** End with a `finish` part of reason `abort` instead of throwing AbortError. Default false. */
  stopOnAbort?: boolean;
  signal?: AbortSignal;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function toNative(s: ResolvedSampling): NativeSamplingOptions {
  return { ...s };
}

/**
 * Generates a continuation of `prompt`, streaming typed parts: `token` and `text-delta` as tokens arrive, then one
 * `finish` with the reason, usage and timings. The same code runs on every backend; a backend's native loop is used
 * only where it gives identical results.
 */
export async function* generate(options: GenerateOptions): AsyncGenerator<GeneratePart, void, undefined> {
  const started = performance.now();
  const { model, signal } = options;
  const tokenizer = model.tokenizer;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new InvalidArgumentError(`must be an integer >= 0, got ${maxTokens}`, {
      field: 'maxTokens',
      value: maxTokens,
    });
  }
  const sampling = resolveSampling(options, randomSeed());
  const promptIds =
    typeof options.prompt === 'string'
      ? tokenizer.encode(options.prompt, { addSpecialTokens: true, parseSpecialTokens: options.parseSpecialTokens })
      : [...options.prompt];
  if (promptIds.length === 0) {
    throw new InvalidArgumentError('the prompt is empty and the tokenizer adds no BOS token', { field: 'prompt' });
  }
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= model.spec.vocabSize) {
      throw new InvalidArgumentError(`token id ${id} is outside the vocabulary of ${model.spec.vocabSize}`, {
        field: 'prompt',
        value: id,
      });
    }
  }
  const ownSequence = options.sequence === undefined;
  const sequence = options.sequence ?? (await model.createSequence());
  if (promptIds.length > sequence.contextSize) {
    if (ownSequence) await sequence.dispose();
    throw new ContextOverflowError(promptIds.length, sequence.contextSize, { field: 'prompt' });
  }
  const stopTokens = new Set(options.stopTokens ?? endOfGenerationIds(tokenizer));
  const stopText = new StopTextMatcher(options.stop ?? []);
  const decoder = tokenizer.createStreamDecoder({ context: promptIds.slice(-4) });
  const history = [...promptIds];
  const scheduler = new CooperativeScheduler();
  const usage: Usage = { promptTokens: promptIds.length, completionTokens: 0, cachedPromptTokens: 0 };
  let prefillMs = 0;
  let firstTokenAt = 0;
  let lastTokenAt = 0;
  let finishReason: FinishReason = 'length';

  const emitToken = function* (id: number, logprob: number | undefined): Generator<GeneratePart> {
    const now = performance.now();
    if (usage.completionTokens === 0) firstTokenAt = now;
    lastTokenAt = now;
    usage.completionTokens++;
    history.push(id);
    const piece = stopTokens.has(id) ? '' : decoder.push(id);
    yield { type: 'token', id, text: piece, ...(logprob !== undefined ? { logprob } : {}) };
    const visible = stopText.push(piece);
    if (visible.length > 0) yield { type: 'text-delta', text: visible };
  };

  try {
    // Reuse the cached prefix; at least one prompt token must be evaluated to get logits.
    let reuse = commonPrefixLength(sequence.tokens, promptIds);
    if (reuse >= promptIds.length) reuse = promptIds.length - 1;
    if (reuse < sequence.tokens.length) await sequence.truncate(reuse);
    usage.cachedPromptTokens = reuse;
    const pending = promptIds.slice(reuse);
    const random = new SeededRandom(sampling.seed);
    const native =
      (options.allowNativeGeneration ?? true) &&
      !options.logprobs &&
      sequence.generateTokens !== undefined &&
      (sequence.supportsNativeSampling?.(toNative(sampling)) ?? (isGreedy(sampling) && !hasPenalties(sampling)));

    if (maxTokens === 0) {
      finishReason = 'length';
    } else if (native && sequence.generateTokens) {
      const room = sequence.contextSize - promptIds.length + 1;
      const limit = Math.min(maxTokens, room);
      const prefillStart = performance.now();
      let count = 0;
      for await (const id of sequence.generateTokens(pending, {
        maxTokens: limit,
        sampling: toNative(sampling),
        stopTokens: [...stopTokens],
        signal,
      })) {
        if (count === 0) prefillMs = performance.now() - prefillStart;
        count++;
        yield* emitToken(id, undefined);
        if (stopTokens.has(id)) {
          finishReason = 'stop';
          break;
        }
        if (stopText.stopped) {
          finishReason = 'stop';
          break;
        }
        if (signal?.aborted) throw new AbortError('Generation was aborted', { cause: signal.reason });
      }
      if (finishReason !== 'stop') finishReason = count >= maxTokens ? 'length' : 'context-full';
    } else {
      const prefillStart = performance.now();
      if (signal?.aborted) throw new AbortError('Generation was aborted', { cause: signal.reason });
      let logits = (await sequence.forward(pending, { logits: 'last', signal })).last();
      prefillMs = performance.now() - prefillStart;
      for (;;) {
        await scheduler.maybeYield();
        if (signal?.aborted) throw new AbortError('Generation was aborted', { cause: signal.reason });
        const id = sampleToken(logits, history, sampling, random);
        const logprob = options.logprobs ? logSoftmax(logits)[id] : undefined;
        yield* emitToken(id, logprob);
        if (stopTokens.has(id)) {
          finishReason = 'stop';
          break;
        }
        if (stopText.stopped) {
          finishReason = 'stop';
          break;
        }
        if (usage.completionTokens >= maxTokens) {
          finishReason = 'length';
          break;
        }
        if (sequence.tokens.length + 1 > sequence.contextSize) {
          finishReason = 'context-full';
          break;
        }
        logits = (await sequence.forward([id], { logits: 'last', signal })).last();
      }
    }
  } catch (error) {
    if (AbortError.isInstance(error) && error.code === 'ABORTED' && options.stopOnAbort) {
      finishReason = 'abort';
    } else {
      if (ownSequence) await sequence.dispose();
      throw error;
    }
  }
  if (finishReason !== 'stop' || !stopText.stopped) {
    const tail = stopText.push(decoder.flush()) + stopText.flush();
    if (tail.length > 0) yield { type: 'text-delta', text: tail };
  }
  if (ownSequence) await sequence.dispose();
  const end = performance.now();
  const decodeMs = usage.completionTokens > 1 ? lastTokenAt - firstTokenAt : 0;
  const evaluated = promptIds.length - usage.cachedPromptTokens;
  const timings: GenerationTimings = {
    loadMs: model.info.loadMs,
    timeToFirstTokenMs: usage.completionTokens > 0 ? firstTokenAt - started : end - started,
    prefillMs,
    prefillTokensPerSecond: prefillMs > 0 ? (evaluated * 1000) / prefillMs : 0,
    decodeMs,
    decodeTokensPerSecond: decodeMs > 0 ? ((usage.completionTokens - 1) * 1000) / decodeMs : 0,
    totalMs: end - started,
  };
  const stopSequence = stopText.matched;
  yield { type: 'finish', finishReason, usage, timings, ...(stopSequence !== undefined ? { stopSequence } : {}) };
}

export interface GenerateTextResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: FinishReason;
  usage: Usage;
  timings: GenerationTimings;
  logprobs?: number[];
}

/** Runs `generate` to the end and collects the text, ids, usage and timings. */
export async function generateText(options: GenerateOptions): Promise<GenerateTextResult> {
  let text = '';
  const tokens: number[] = [];
  const logprobs: number[] = [];
  for await (const part of generate(options)) {
    if (part.type === 'text-delta') text += part.text;
    else if (part.type === 'token') {
      tokens.push(part.id);
      if (part.logprob !== undefined) logprobs.push(part.logprob);
    } else {
      return {
        text,
        tokens,
        promptTokens: part.usage.promptTokens,
        finishReason: part.finishReason,
        usage: part.usage,
        timings: part.timings,
        ...(options.logprobs ? { logprobs } : {}),
      };
    }
  }
  throw new Error('generate ended without a finish part');
}
