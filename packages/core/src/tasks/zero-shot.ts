import { InvalidArgumentError } from '../errors/index.js';
import type { LoadedModel } from '../model/backend.js';
import { type ScoreOptions, scoreContinuation } from './log-likelihood.js';

export interface ZeroShotLabel {
  label: string;
  /** Text the model should continue the prompt with for this label, e.g. " positive". Default: ` ${label}`. */
  verbalizer?: string;
}

export interface ZeroShotOptions extends ScoreOptions {
  /** Prompt around the text; `{text}` is replaced. Default: `Review: {text}\nSentiment:`. */
  template?: string;
  /** Divide each label's log-likelihood by its token count (for verbalisers of different lengths). Default false. */
  normalize?: boolean;
}

export interface ZeroShotPrediction {
  label: string;
  /** Softmax over the labels' scores. */
  probabilities: Record<string, number>;
}

export const DEFAULT_ZERO_SHOT_TEMPLATE = 'Review: {text}\nSentiment:';

/**
 * Zero-shot classification with any causal LM: each label's verbaliser is scored as a continuation of the prompt,
 * and the most likely one wins.
 */
export async function classifyZeroShot(
  model: LoadedModel,
  texts: readonly string[],
  labels: readonly ZeroShotLabel[],
  options: ZeroShotOptions = {},
): Promise<ZeroShotPrediction[]> {
  if (labels.length < 2) throw new InvalidArgumentError('at least two labels are needed', { field: 'labels' });
  const template = options.template ?? DEFAULT_ZERO_SHOT_TEMPLATE;
  if (!template.includes('{text}'))
    throw new InvalidArgumentError('the template must contain {text}', { field: 'template' });
  const predictions: ZeroShotPrediction[] = [];
  for (const text of texts) {
    if (text.trim().length === 0) throw new InvalidArgumentError('cannot classify an empty text', { field: 'texts' });
    const prompt = template.replace('{text}', text);
    const scores: number[] = [];
    for (const l of labels) {
      const s = await scoreContinuation(model, prompt, l.verbalizer ?? ` ${l.label}`, options);
      scores.push(options.normalize ? s.logprob / Math.max(1, s.tokenCount) : s.logprob);
    }
    const max = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    const probabilities = Object.fromEntries(labels.map((l, i) => [l.label, exps[i] / sum]));
    predictions.push({ label: labels[scores.indexOf(max)].label, probabilities });
  }
  return predictions;
}
