import { describe, expect, it } from 'vitest';
import { BpeModel } from './bpe-model.js';

function tokenize(model: BpeModel, word: string): number[] {
  const out: number[] = [];
  model.tokenize(word, out);
  return out;
}

describe('BpeModel', () => {
  const texts = ['a', 'b', 'c', 'ab', 'bc', 'abc', 'cab'];
  it('takes merges as "left right" strings or as pairs, with the same result, rank order and duplicates ignored', () => {
    const vocab = new Map(texts.map((t, i) => [t, i]));
    const pairs = [
      ['b', 'c'],
      ['a', 'b'],
      ['a', 'bc'],
      ['c', 'ab'],
      ['b', 'c'],
    ] as const;
    const fromPairs = new BpeModel({ vocab, merges: pairs });
    const fromStrings = new BpeModel({ vocab, merges: pairs.map(([l, r]) => `${l} ${r}`) });
    for (const word of ['abc', 'cab', 'abcab', 'ca', 'bcbc']) {
      expect(tokenize(fromStrings, word), word).toEqual(tokenize(fromPairs, word));
    }
    // "bc" (rank 0) before "ab" (rank 1): a + bc -> abc.
    expect(tokenize(fromPairs, 'abc')).toEqual([vocab.get('abc')]);
    expect(tokenize(fromPairs, 'cab')).toEqual([vocab.get('cab')]);
  });

  it('packs pairs exactly for ids far above 2^15 (large vocabularies)', () => {
    const base = 2 ** 20;
    const vocab = new Map(texts.map((t, i) => [t, base + i]));
    const model = new BpeModel({ vocab, merges: ['b c', 'a bc'] });
    expect(tokenize(model, 'abc')).toEqual([base + 5]);
    expect(tokenize(model, 'ab')).toEqual([base, base + 1]);
  });
});
