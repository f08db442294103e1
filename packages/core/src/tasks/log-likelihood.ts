import { InvalidArgumentError, throwIfAborted } from '../errors/index.js';
import { argmax, logSoftmax } from '../generation/sampler.js';
import type { LoadedModel } from '../model/backend.js';

export interface ContinuationScore {
  /** Sum of the log-probabilities of the continuation's tokens given the context (natural log). */
  logprob: number;
  /** Number of continuation tokens scored. */
  tokenCount: number;
  /** Every continuation token was the model's argmax (lm-evaluation-harness `is_greedy`). */
  isGreedy: boolean;
}

export interface ScoreOptions {
  signal?: AbortSignal;
}

/**
 * Splits `context + continuation` into context ids and continuation ids the way lm-evaluation-harness does: encode
 * the whole text and the context, and take the continuation as the tail of the whole encoding, so tokens that merge
 * across the boundary are scored as the model would see them.
 */
export function splitContinuation(
  model: LoadedModel,
  context: string,
  continuation: string,
): { contextIds: number[]; continuationIds: number[] } {
  const tokenizer = model.tokenizer;
  const whole = tokenizer.encode(context + continuation);
  const contextIds = tokenizer.encode(context);
  let shared = 0;
  while (shared < contextIds.length && shared < whole.length && contextIds[shared] === whole[shared]) shared++;
  // The context's last token may have merged with the continuation: score from the first differing token.
  const split = Math.min(shared, whole.length - 1);
  if (split <= 0) {
    throw new InvalidArgumentError('the context must encode to at least one token (or the tokenizer must add BOS)', {
      field: 'context',
    });
  }
  return { contextIds: whole.slice(0, split), continuationIds: whole.slice(split) };
}

/** Log-likelihood of token ids `continuationIds` following `contextIds` (one forward pass with full logits). */
export async function scoreTokens(
  model: LoadedModel,
  contextIds: readonly number[],
  continuationIds: readonly number[],
  options: ScoreOptions = {},
): Promise<ContinuationScore> {
  if (contextIds.length === 0) throw new InvalidArgumentError('context ids are empty', { field: 'contextIds' });
  if (continuationIds.length === 0) return { logprob: 0, tokenCount: 0, isGreedy: true };
  throwIfAborted(options.signal, 'scoring');
  const sequence = await model.createSequence();
  try {
    const input = [...contextIds, ...continuationIds.slice(0, -1)];
    const logits = await sequence.forward(input, { logits: 'all', signal: options.signal });
    let logprob = 0;
    let isGreedy = true;
    for (let i = 0; i < continuationIds.length; i++) {
      const row = logits.row(contextIds.length - 1 + i);
      const target = continuationIds[i];
      logprob += logSoftmax(row)[target];
      if (argmax(row) !== target) isGreedy = false;
    }
    return { logprob, tokenCount: continuationIds.length, isGreedy };
  } finally {
    await sequence.dispose();
  }
}

/** Log-likelihood of `continuation` after `context` (text). */
export async function scoreContinuation(
  model: LoadedModel,
  context: string,
  continuation: string,
  options: ScoreOptions = {},
): Promise<ContinuationScore> {
  const { contextIds, continuationIds } = splitContinuation(model, context, continuation);
  return scoreTokens(model, contextIds, continuationIds, options);
}

export interface MultipleChoiceResult {
  scores: ContinuationScore[];
  /** Index of the choice with the highest log-likelihood (`acc`). */
  best: number;
  /** Index of the choice with the highest log-likelihood per UTF-8 byte of the choice (`acc_norm`). */
  bestNormalized: number;
}

/** lm-evaluation-harness style multiple choice: score each choice as a continuation of the context. */
export async function multipleChoice(
  model: LoadedModel,
  context: string,
  choices: readonly string[],
  options: ScoreOptions = {},
): Promise<MultipleChoiceResult> {
  if (choices.length === 0) throw new InvalidArgumentError('at least one choice is needed', { field: 'choices' });
  const scores: ContinuationScore[] = [];
  for (const choice of choices) scores.push(await scoreContinuation(model, context, choice, options));
  const bytes = choices.map((c) => Math.max(1, new TextEncoder().encode(c).length));
  return {
    scores,
    best: argmax(scores.map((s) => s.logprob)),
    bestNormalized: argmax(scores.map((s, i) => s.logprob / bytes[i])),
  };
}
