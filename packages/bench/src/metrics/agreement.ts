import { InvalidArgumentError } from '@slmkit/core';

export interface Agreement {
  /** Positions where both sequences hold the same id, divided by the longer length. */
  tokenAgreement: number;
  /** Length of the common prefix divided by the longer length (1 = identical). */
  prefixAgreement: number;
  /** Index of the first differing position, or null when identical. */
  firstDivergence: number | null;
  compared: number;
}

/** Greedy agreement of two token sequences produced from the same prompt by two backends. */
export function tokenAgreement(a: readonly number[], b: readonly number[]): Agreement {
  const n = Math.max(a.length, b.length);
  if (n === 0) throw new InvalidArgumentError('both sequences are empty', { field: 'tokens' });
  let same = 0;
  let prefix = -1;
  for (let i = 0; i < n; i++) {
    if (i < a.length && i < b.length && a[i] === b[i]) same++;
    else if (prefix < 0) prefix = i;
  }
  return {
    tokenAgreement: same / n,
    prefixAgreement: (prefix < 0 ? n : prefix) / n,
    firstDivergence: prefix < 0 ? null : prefix,
    compared: n,
  };
}

/** Agreement over several prompts: identical-token share of all positions pooled, and mean prefix share. */
export function pooledAgreement(pairs: readonly (readonly [readonly number[], readonly number[]])[]): Agreement {
  if (pairs.length === 0) throw new InvalidArgumentError('no sequence pairs', { field: 'pairs' });
  let same = 0;
  let total = 0;
  let prefixSum = 0;
  let first: number | null = null;
  for (const [a, b] of pairs) {
    const r = tokenAgreement(a, b);
    same += r.tokenAgreement * r.compared;
    total += r.compared;
    prefixSum += r.prefixAgreement;
    if (r.firstDivergence !== null && first === null) first = r.firstDivergence;
  }
  return {
    tokenAgreement: same / total,
    prefixAgreement: prefixSum / pairs.length,
    firstDivergence: first,
    compared: total,
  };
}
