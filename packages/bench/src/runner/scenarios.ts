import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, UnsupportedFeatureError } from '@slmkit/core';
import { type ChoiceItem, choiceAccuracy, scoreChoices, sst2Items } from '../metrics/multiple-choice.js';
import { bitsPerByte, chunkedNll, perplexityFromNll } from '../metrics/perplexity.js';
import { distribution, median } from '../metrics/stats.js';
import type {
  ChoiceScenario,
  GenerateScenario,
  PerplexityScenario,
  RunSettings,
  SpeedScenario,
} from '../suite/suite-types.js';
import { repeat } from './repetitions.js';
import type { CellResult } from './result-types.js';
import type { BenchSubject } from './subject.js';

export type ScenarioOutput = Pick<CellResult, 'metrics' | 'distributions' | 'tokens' | 'texts'>;

/** Text the speed prompts are cut from (tokenized by each subject's own tokenizer). */
export const SPEED_PROMPT_TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. ' +
  'One day, she saw a big red ball near the tree. She ran to the ball and kicked it high into the sky. ' +
  'Her dog Max barked and jumped, and everyone laughed together in the warm sun. ';

/** `length` prompt ids from the subject's tokenizer: BOS (if any) plus the prompt text, repeated as needed. */
export function promptIds(subject: BenchSubject, length: number): number[] {
  const first = subject.encode(SPEED_PROMPT_TEXT);
  const a = subject.encode('a');
  const b = subject.encode('b');
  const bosCount = a.length > 1 && b.length > 1 && a[0] === b[0] ? 1 : 0;
  const body = first.slice(bosCount);
  const ids = [...first];
  while (ids.length < length) ids.push(...body);
  return ids.slice(0, length);
}

export async function runSpeed(
  subject: BenchSubject,
  scenario: SpeedScenario,
  settings: RunSettings,
  signal?: AbortSignal,
): Promise<ScenarioOutput> {
  const metrics: Record<string, number> = {};
  const distributions: NonNullable<ScenarioOutput['distributions']> = {};
  const lengths = scenario.promptTokens ?? [64];
  for (const p of lengths) {
    const ids = promptIds(subject, p);
    const times = await repeat(
      settings,
      async () => {
        const ms = await subject.prefill(ids, signal);
        return { ms, value: ms };
      },
      signal,
    );
    distributions[`pp${p}_ms`] = distribution(times);
    const tps = times.map((ms) => (p * 1000) / ms);
    distributions[`pp${p}_tps`] = distribution(tps);
    metrics[`pp${p}_tps`] = median(tps);
  }
  const n = scenario.outputTokens ?? 32;
  if (n < 2)
    throw new InvalidArgumentError('outputTokens must be >= 2 to time decoding', { field: 'outputTokens', value: n });
  const prompt = promptIds(subject, lengths[0]);
  const runs = await repeat(
    settings,
    async () => {
      const run = await subject.generate(prompt, n, signal);
      if (run.tokens.length !== n) throw new UnsupportedFeatureError(`asked for ${n} tokens, got ${run.tokens.length}`);
      return { ms: run.tokenTimesMs[n - 1], value: run };
    },
    signal,
  );
  const ttft = runs.map((r) => r.tokenTimesMs[0]);
  const tpot: number[] = [];
  const decodeTps: number[] = [];
  for (const r of runs) {
    for (let i = 1; i < n; i++) tpot.push(r.tokenTimesMs[i] - r.tokenTimesMs[i - 1]);
    decodeTps.push(((n - 1) * 1000) / (r.tokenTimesMs[n - 1] - r.tokenTimesMs[0]));
  }
  const tpotD = distribution(tpot);
  distributions.ttft_ms = distribution(ttft);
  distributions.tpot_ms = tpotD;
  distributions[`tg${n}_tps`] = distribution(decodeTps);
  // Headlines are medians over repetitions (robust to one disturbed run); means and stdevs are in distributions.
  metrics.ttft_ms = median(ttft);
  metrics[`tg${n}_tps`] = median(decodeTps);
  metrics.tpot_ms_mean = tpotD.mean;
  metrics.tpot_ms_p50 = tpotD.p50;
  metrics.tpot_ms_p90 = tpotD.p90;
  metrics.tpot_ms_p99 = tpotD.p99;
  metrics.repetitions = runs.length;
  return { metrics, distributions, tokens: [runs[0].tokens] };
}

function requireModel(subject: BenchSubject, what: string) {
  if (!subject.model)
    throw new UnsupportedFeatureError(
      `${what} needs full logits, which ${subject.runtime.backend} does not expose here`,
    );
  return subject.model;
}

export async function runPerplexity(
  subject: BenchSubject,
  scenario: PerplexityScenario,
  signal?: AbortSignal,
): Promise<ScenarioOutput> {
  const model = requireModel(subject, 'perplexity');
  const text = scenario.text ?? (scenario.textFile ? await readFile(scenario.textFile, 'utf8') : undefined);
  if (text === undefined)
    throw new InvalidArgumentError('a perplexity scenario needs text or textFile', {
      field: `scenarios.${scenario.id}`,
    });
  const result = await chunkedNll(model, text, {
    contextSize: scenario.contextSize ?? 128,
    maxChunks: scenario.maxChunks,
    signal,
  });
  return {
    metrics: {
      ppl: perplexityFromNll(result.nll),
      bpb: bitsPerByte(result.nll, result.scoredBytes),
      nll_mean: result.nll.reduce((a, b) => a + b, 0) / result.nll.length,
      scored_tokens: result.nll.length,
      chunks: result.chunks,
    },
  };
}

export async function runChoice(
  subject: BenchSubject,
  scenario: ChoiceScenario,
  signal?: AbortSignal,
): Promise<ScenarioOutput> {
  const model = requireModel(subject, 'choice scoring');
  const limit = scenario.limit ?? 100;
  let items: ChoiceItem[];
  if (scenario.dataset === 'sst2') {
    if (!scenario.file)
      throw new InvalidArgumentError('an sst2 scenario needs file', { field: `scenarios.${scenario.id}.file` });
    items = sst2Items(await readFile(scenario.file, 'utf8'), limit);
  } else {
    items = (scenario.items ?? []).slice(0, limit);
  }
  const scored = [];
  for (const item of items) scored.push(await scoreChoices(model, item, signal));
  const acc = choiceAccuracy(scored);
  return { metrics: { acc: acc.acc, acc_norm: acc.accNorm, items: acc.items } };
}

export async function runGenerate(
  subject: BenchSubject,
  scenario: GenerateScenario,
  signal?: AbortSignal,
): Promise<ScenarioOutput> {
  const tokens: number[][] = [];
  const texts: string[] = [];
  const n = scenario.maxTokens ?? 32;
  for (const prompt of scenario.prompts) {
    const run = await subject.generate(subject.encode(prompt), n, signal);
    tokens.push(run.tokens);
    texts.push(subject.decode(run.tokens));
  }
  return { metrics: { prompts: scenario.prompts.length, max_tokens: n }, tokens, texts };
}
