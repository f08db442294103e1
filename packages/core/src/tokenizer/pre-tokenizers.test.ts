import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../errors/index.js';
import { fromByteLevel, toByteLevel } from './byte-level.js';
import { llamaCppPreTokenizer } from './llama-cpp-pre.js';
import { splitWithBehavior } from './pre-tokenizers.js';
import { compileTokenizerRegex, translateRegexSource } from './regex-translate.js';
import { SpecialTokenSplitter } from './special-token-splitter.js';

describe('Split behaviours (examples from the Hugging Face tokenizers documentation)', () => {
  const text = 'the-final--countdown';
  const dash = /-/g;
  it.each([
    ['removed', ['the', 'final', 'countdown']],
    ['isolated', ['the', '-', 'final', '-', '-', 'countdown']],
    ['merged_with_previous', ['the-', 'final-', '-', 'countdown']],
    ['merged_with_next', ['the', '-final', '-', '-countdown']],
    ['contiguous', ['the', '-', 'final', '--', 'countdown']],
  ] as const)('%s', (behavior, expected) => {
    expect(splitWithBehavior(text, dash, behavior)).toEqual(expected);
  });
  it('invert keeps the matches as the content', () => {
    expect(splitWithBehavior('ab12cd', /\d+/g, 'removed', true)).toEqual(['12']);
  });
});

describe('regex translation (Oniguruma -> JavaScript u-mode)', () => {
  it('expands inline case-insensitive groups', () => {
    const re = compileTokenizerRegex("(?i:'s|'t)");
    expect("'S 't 'T".match(re)).toEqual(["'S", "'t", "'T"]);
  });
  it('uses Unicode White_Space for \\s (U+0085 yes, U+FEFF no)', () => {
    expect(compileTokenizerRegex('\\s+').test('\u0085')).toBe(true);
    expect(compileTokenizerRegex('^\\s+$').test('\ufeff')).toBe(false);
  });
  it('keeps \\p{..} classes and their quantifiers, drops possessive +', () => {
    expect(translateRegexSource('\\p{L}+')).toBe('\\p{L}+');
    expect(translateRegexSource('\\p{N}{1,3}')).toBe('\\p{N}{1,3}');
    expect(translateRegexSource('a++')).toBe('a+');
    expect(translateRegexSource('\\x{1F600}')).toBe('\\u{1F600}');
  });
  it('rejects patterns JavaScript cannot compile with a ModelFormatError', () => {
    expect(() => compileTokenizerRegex('(')).toThrow(ModelFormatError);
  });
  it('every llama.cpp pre-tokenizer compiles', () => {
    for (const name of [
      'default',
      'llama-bpe',
      'deepseek-llm',
      'deepseek-coder',
      'deepseek-v3',
      'falcon',
      'starcoder',
      'refact',
      'mpt',
      'qwen2',
      'tekken',
      'poro-chat',
      'viking',
    ]) {
      const preset = llamaCppPreTokenizer(name);
      expect(preset, name).toBeDefined();
      for (const p of preset?.patterns ?? []) expect(() => compileTokenizerRegex(p)).not.toThrow();
    }
    expect(llamaCppPreTokenizer('no-such-pre')).toBeUndefined();
  });
});

describe('byte-level mapping', () => {
  it('is GPT-2 byte_to_unicode and reversible', () => {
    expect(toByteLevel(' hello\n')).toBe('\u0120hello\u010a');
    const text = 'héllo 🦙 日本';
    expect(new TextDecoder().decode(fromByteLevel(toByteLevel(text)))).toBe(text);
  });
});

describe('SpecialTokenSplitter', () => {
  const splitter = new SpecialTokenSplitter([
    { text: '<s>', id: 1 },
    { text: '<|eot|>', id: 2, lstrip: true, rstrip: true },
    { text: '<|eot|>x', id: 3 },
    { text: 'word', id: 4, singleWord: true },
  ]);
  it('takes the leftmost, then longest match', () => {
    expect(splitter.split('a<s>b<|eot|>xc')).toEqual([
      { text: 'a' },
      { id: 1 },
      { text: 'b' },
      { id: 3 },
      { text: 'c' },
    ]);
  });
  it('applies lstrip/rstrip and single_word', () => {
    expect(splitter.split('a  <|eot|>  b')).toEqual([{ text: 'a' }, { id: 2 }, { text: 'b' }]);
    expect(splitter.split('words word')).toEqual([{ text: 'words ' }, { id: 4 }]);
  });
});
