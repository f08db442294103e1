import type { SeededRandom } from './random.js';
import type { ResolvedSampling } from './sampling-options.js';

/** Index of the largest value (the first one on ties, as llama.cpp's greedy sampler). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}

/** log-softmax of one row, in float64 for stable sums. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** Applies repetition, presence and frequency penalties to a copy of the logits. */
export function applyPenalties(logits: Float32Array, history: readonly number[], s: ResolvedSampling): Float32Array {
  if (s.repeatPenalty === 1 && s.presencePenalty === 0 && s.frequencyPenalty === 0) return logits;
  const window = s.repeatLastN === 0 ? [] : history.slice(-s.repeatLastN);
  if (window.length === 0) return logits;
  const counts = new Map<number, number>();
  for (const id of window) counts.set(id, (counts.get(id) ?? 0) + 1);
  const out = Float32Array.from(logits);
  for (const [id, count] of counts) {
    if (id < 0 || id >= out.length) continue;
    let v = out[id];
    if (s.repeatPenalty !== 1) v = v <= 0 ? v * s.repeatPenalty : v / s.repeatPenalty;
    v -= count * s.frequencyPenalty + (count > 0 ? s.presencePenalty : 0);
    out[id] = v;
  }
  return out;
}

interface Candidate {
  id: number;
  logit: number;
  p: number;
}

/**
 * Picks the next token: penalties, then (unless greedy) top-k, top-p, min-p, temperature and a seeded draw,
 * in llama.cpp's default order.
 */
export function sampleToken(
  rawLogits: Float32Array,
  history: readonly number[],
  s: ResolvedSampling,
  random: SeededRandom,
): number {
  const logits = applyPenalties(rawLogits, history, s);
  if (s.temperature === 0) return argmax(logits);
  let candidates: Candidate[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] !== Number.NEGATIVE_INFINITY && !Number.isNaN(logits[i]))
      candidates.push({ id: i, logit: logits[i], p: 0 });
  }
  if (candidates.length === 0) return argmax(logits);
  candidates.sort((a, b) => b.logit - a.logit || a.id - b.id);
  if (s.topK > 0 && s.topK < candidates.length) candidates = candidates.slice(0, s.topK);
  softmaxInPlace(candidates, 1);
  if (s.topP < 1) {
    let cumulative = 0;
    let keep = candidates.length;
    for (let i = 0; i < candidates.length; i++) {
      cumulative += candidates[i].p;
      if (cumulative >= s.topP) {
        keep = i + 1;
        break;
      }
    }
    candidates = candidates.slice(0, keep);
  }
  if (s.minP > 0) {
    const threshold = candidates[0].p * s.minP;
    const kept = candidates.filter((c) => c.p >= threshold);
    if (kept.length > 0) candidates = kept;
  }
  softmaxInPlace(candidates, s.temperature);
  const r = random.next();
  let cumulative = 0;
  for (const c of candidates) {
    cumulative += c.p;
    if (r < cumulative) return c.id;
  }
  return candidates[candidates.length - 1].id;
}

function softmaxInPlace(candidates: Candidate[], temperature: number): void {
  const max = candidates[0].logit / temperature;
  let sum = 0;
  for (const c of candidates) {
    c.p = Math.exp(c.logit / temperature - max);
    sum += c.p;
  }
  for (const c of candidates) c.p /= sum;
}
