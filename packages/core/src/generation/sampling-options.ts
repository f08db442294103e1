import { InvalidArgumentError } from '../errors/index.js';

/** Sampling settings; the defaults follow llama.cpp's. */
export interface SamplingOptions {
  /** 0 means greedy (argmax). Default 0.8. */
  temperature?: number;
  /** Keep the k most likely tokens; 0 disables. Default 40. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 disables. Default 0.95. */
  topP?: number;
  /** Drop tokens less likely than minP x the most likely one; 0 disables. Default 0.05. */
  minP?: number;
  /** Divide positive (multiply negative) logits of recent tokens; 1 disables. Default 1. */
  repeatPenalty?: number;
  /** How many recent tokens the penalties look at; default 64. */
  repeatLastN?: number;
  /** Subtracted once from the logit of every token already present; default 0. */
  presencePenalty?: number;
  /** Subtracted per occurrence from the logit of every token already present; default 0. */
  frequencyPenalty?: number;
  /** Seed of the sampler's PRNG: the same seed gives the same text on the same backend. Default: random. */
  seed?: number;
}

export const DEFAULT_SAMPLING: Required<Omit<SamplingOptions, 'seed'>> = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1,
  repeatLastN: 64,
  presencePenalty: 0,
  frequencyPenalty: 0,
};

export type ResolvedSampling = Required<SamplingOptions>;

function check(name: string, value: number, ok: boolean, range: string): void {
  if (!Number.isFinite(value) || !ok) {
    throw new InvalidArgumentError(`must be ${range}, got ${value}`, { field: name, value });
  }
}

export function resolveSampling(options: SamplingOptions, seed: number): ResolvedSampling {
  const s = { ...DEFAULT_SAMPLING, ...stripUndefined(options), seed: options.seed ?? seed };
  check('temperature', s.temperature, s.temperature >= 0, '>= 0');
  check('topK', s.topK, Number.isInteger(s.topK) && s.topK >= 0, 'an integer >= 0');
  check('topP', s.topP, s.topP > 0 && s.topP <= 1, 'in (0, 1]');
  check('minP', s.minP, s.minP >= 0 && s.minP <= 1, 'in [0, 1]');
  check('repeatPenalty', s.repeatPenalty, s.repeatPenalty > 0, '> 0');
  check('repeatLastN', s.repeatLastN, Number.isInteger(s.repeatLastN) && s.repeatLastN >= 0, 'an integer >= 0');
  check('presencePenalty', s.presencePenalty, true, 'finite');
  check('frequencyPenalty', s.frequencyPenalty, true, 'finite');
  check('seed', s.seed, Number.isInteger(s.seed), 'an integer');
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function isGreedy(s: ResolvedSampling): boolean {
  return s.temperature === 0;
}

export function hasPenalties(s: ResolvedSampling): boolean {
  return s.repeatPenalty !== 1 || s.presencePenalty !== 0 || s.frequencyPenalty !== 0;
}
