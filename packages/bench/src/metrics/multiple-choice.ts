import { InvalidArgumentError, type LoadedModel, throwIfAborted } from '@slmkit/core';
import { tokenNll } from './perplexity.js';

/** One multiple-choice (or classification) item: the context, the candidate continuations and the right one. */
export interface ChoiceItem {
  context: string;
  choices: readonly string[];
  /** Index of the correct choice. */
  gold: number;
}

/** Log-likelihood of each choice of one item, as lm-evaluation-harness scores it. */
export interface ChoiceScores {
  /** Sum of log p(continuation token | everything before), natural log. */
  logLikelihoods: number[];
  /** UTF-8 byte length of each choice string (for acc_norm). */
  byteLengths: number[];
  gold: number;
}

export interface ChoiceAccuracy {
  /** Share of items whose highest-log-likelihood choice is the gold one. */
  acc: number;
  /** Same, with each log-likelihood divided by its choice's byte length (lm-evaluation-harness `acc_norm`). */
  accNorm: number;
  items: number;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** acc and acc_norm over scored items (ties go to the first choice). */
export function choiceAccuracy(scored: readonly ChoiceScores[]): ChoiceAccuracy {
  if (scored.length === 0) throw new InvalidArgumentError('no scored items', { field: 'items' });
  let acc = 0;
  let accNorm = 0;
  for (const item of scored) {
    if (argmax(item.logLikelihoods) === item.gold) acc++;
    const normed = item.logLikelihoods.map((ll, i) => ll / Math.max(1, item.byteLengths[i]));
    if (argmax(normed) === item.gold) accNorm++;
  }
  return { acc: acc / scored.length, accNorm: accNorm / scored.length, items: scored.length };
}

const utf8 = new TextEncoder();

/**
 * Scores every choice of `item`: the context plus the choice is tokenized as one string (BOS as the tokenizer adds
 * it); the continuation's tokens are those after the context's own tokens (lm-evaluation-harness's split); their
 * log-probabilities come from one forward pass with logits for every position.
 */
export async function scoreChoices(model: LoadedModel, item: ChoiceItem, signal?: AbortSignal): Promise<ChoiceScores> {
  if (!Number.isInteger(item.gold) || item.gold < 0 || item.gold >= item.choices.length) {
    throw new InvalidArgumentError(`gold index ${item.gold} is outside the ${item.choices.length} choices`, {
      field: 'gold',
      value: item.gold,
    });
  }
  const tokenizer = model.tokenizer;
  const contextIds = tokenizer.encode(item.context);
  const logLikelihoods: number[] = [];
  const sequence = await model.createSequence();
  try {
    for (const choice of item.choices) {
      throwIfAborted(signal);
      const whole = tokenizer.encode(item.context + choice);
      let split = 0;
      while (split < contextIds.length && split < whole.length - 1 && whole[split] === contextIds[split]) split++;
      split = Math.max(1, split);
      await sequence.reset();
      const logits = await sequence.forward(whole, { logits: 'all', signal });
      let ll = 0;
      for (let j = split; j < whole.length; j++) ll -= tokenNll(logits.row(j - 1), whole[j]);
      logLikelihoods.push(ll);
    }
  } finally {
    await sequence.dispose();
  }
  return { logLikelihoods, byteLengths: item.choices.map((c) => utf8.encode(c).length), gold: item.gold };
}

/**
 * SST-2 rows (`sentence<TAB>label`, header line first) as two-way choice items: context
 * `Review: <sentence>\nSentiment:`, choices ` negative` / ` positive`, gold = label.
 */
export function sst2Items(tsv: string, limit: number): ChoiceItem[] {
  const items: ChoiceItem[] = [];
  const lines = tsv.split('\n');
  for (let i = 1; i < lines.length && items.length < limit; i++) {
    const line = lines[i].trimEnd();
    if (line === '') continue;
    const tab = line.lastIndexOf('\t');
    const label = Number(line.slice(tab + 1));
    if (tab < 0 || (label !== 0 && label !== 1)) {
      throw new InvalidArgumentError(`line ${i + 1} is not "sentence<TAB>0|1"`, {
        field: 'sst2',
        value: line.slice(0, 80),
      });
    }
    items.push({
      context: `Review: ${line.slice(0, tab)}\nSentiment:`,
      choices: [' negative', ' positive'],
      gold: label,
    });
  }
  return items;
}
