import { describe, expect, it } from 'vitest';
import { parseTokenizerJson } from '../formats/tokenizer-json.js';

/** A character-level BPE over a-z plus one added token, with a Lowercase normaliser. */
function tokenizer(added: { content: string; normalized: boolean; special: boolean }) {
  const vocab: Record<string, number> = {};
  'abcdefghijklmnopqrstuvwxyz'.split('').forEach((c, i) => {
    vocab[c] = i;
  });
  return parseTokenizerJson({
    tokenizerJson: {
      added_tokens: [{ id: 26, single_word: false, lstrip: false, rstrip: false, ...added }],
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      model: { type: 'BPE', vocab, merges: [] },
    },
  });
}

describe('added tokens', () => {
  it('normalized: true matches the normalised text (content normalised too)', () => {
    const t = tokenizer({ content: 'HeLLo', normalized: true, special: false });
    expect(t.encode('xHELLOx')).toEqual([23, 26, 23]);
  });
  it('normalized: false matches the raw input only', () => {
    const t = tokenizer({ content: 'HeLLo', normalized: false, special: false });
    expect(t.encode('xHeLLox')).toEqual([23, 26, 23]);
    expect(t.encode('xhellox')).toEqual([23, 7, 4, 11, 11, 14, 23]);
  });
  it('special tokens are only matched when parseSpecialTokens is on, and decode skips them', () => {
    const t = tokenizer({ content: '<eot>', normalized: false, special: true });
    expect(t.encode('a<eot>', { parseSpecialTokens: true })).toEqual([0, 26]);
    expect(t.encode('a<eot>')).not.toContain(26);
    expect(t.isSpecial(26)).toBe(true);
    expect(t.decode([0, 26])).toBe('a');
    expect(t.decode([0, 26], { skipSpecialTokens: false })).toBe('a<eot>');
  });
  it('an id outside the vocabulary is a typed error', () => {
    expect(() => tokenizer({ content: 'x', normalized: false, special: false }).decode([999])).toThrow(
      /outside the vocabulary/,
    );
  });
});
