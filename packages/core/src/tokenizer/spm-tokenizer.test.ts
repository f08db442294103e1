import { describe, expect, it } from 'vitest';
import { syntheticSpmTokenizer } from '../testing/random-model.js';
import { SpmTokenizer } from './spm-tokenizer.js';
import { TokenType } from './token-type.js';

function tinyVocab(): SpmTokenizer {
  const pieces = [
    '<unk>',
    '<s>',
    '</s>',
    '<0xE2>',
    '<0x98>',
    '<0x83>',
    '\u2581',
    'a',
    'b',
    '\u2581a',
    'ab',
    '\u2581ab',
  ];
  const types: number[] = [
    TokenType.unknown,
    TokenType.control,
    TokenType.control,
    TokenType.byte,
    TokenType.byte,
    TokenType.byte,
  ];
  while (types.length < pieces.length) types.push(TokenType.normal);
  const scores = pieces.map((_, i) => -i);
  return new SpmTokenizer({ pieces, scores, types, special: { unk: 0, bos: 1, eos: 2 }, addBos: true, addEos: false });
}

describe('SpmTokenizer', () => {
  it('merges by score, adds BOS and the dummy prefix', () => {
    const t = tinyVocab();
    expect(t.encode('ab')).toEqual([1, 11]);
    expect(t.encode('ab', { addSpecialTokens: false })).toEqual([11]);
    expect(t.encode('ab ab', { addSpecialTokens: false })).toEqual([11, 11]);
    expect(t.decode([1, 11, 11])).toBe('ab ab');
  });
  it('falls back to byte tokens and to <unk> where no byte token exists', () => {
    const t = tinyVocab();
    expect(t.encode('☃', { addSpecialTokens: false })).toEqual([6, 3, 4, 5]);
    expect(t.decode([6, 3, 4, 5])).toBe('☃');
    expect(t.encode('é', { addSpecialTokens: false })).toEqual([6, 0, 0]);
  });
  it('parses special tokens only when asked', () => {
    const t = tinyVocab();
    expect(t.encode('a</s>', { addSpecialTokens: false, parseSpecialTokens: true })).toEqual([9, 2]);
    expect(t.encode('a</s>', { addSpecialTokens: false })).not.toContain(2);
  });
  it('streams multi-byte characters without broken UTF-8', () => {
    const t = tinyVocab();
    const decoder = t.createStreamDecoder({ context: [1] });
    const out = [6, 3, 4, 5, 10].map((id) => decoder.push(id));
    // right after BOS the ▁ is the dummy prefix, which decoding drops
    expect(out).toEqual(['', '', '', '☃', 'ab']);
    expect(decoder.flush()).toBe('');
  });
  it('keeps the leading space of a continuation when given the prompt as context', () => {
    const t = tinyVocab();
    const decoder = t.createStreamDecoder({ context: [1, 11] });
    expect(decoder.push(11)).toBe(' ab');
  });
  it('a synthetic vocabulary of any size round-trips text', () => {
    const t = syntheticSpmTokenizer(2000);
    expect(t.vocabSize).toBe(2000);
    const text = 'the rain in spain, 42 times! Ünïcödé ☃';
    expect(t.decode(t.encode(text))).toBe(text);
  });
});
