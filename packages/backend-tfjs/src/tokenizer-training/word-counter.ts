import { byteToUnicodeTable, gpt2PreTokenize } from './byte-level.js';
import { splitOnSpecialTokens } from './special-split.js';
import type { TrainedTokenizerKind } from './tokenizer-json.js';

const SPM_SPACE = '\u2581';
const SPM_WORD_PATTERN = /\u2581[^\u2581\n]*|\n+|[^\u2581\n]+/gu;

/** The SentencePiece-style normalisation of the trained `tokenizer.json`: prepend `▁`, spaces become `▁`. */
export function spmNormalize(text: string): string {
  return SPM_SPACE + text.replaceAll(' ', SPM_SPACE);
}

/**
 * Counts the words (pre-tokens) of a corpus. Only unique words and their counts are kept, never the texts.
 * Byte-level: GPT-2 pre-tokens. SentencePiece-style: `▁`-led words, with newline runs as words of their own.
 */
export class WordCounter {
  readonly counts = new Map<string, number>();
  texts = 0;
  characters = 0;
  words = 0;
  readonly #kind: TrainedTokenizerKind;
  readonly #specials: readonly string[];

  constructor(kind: TrainedTokenizerKind, specialTokens: readonly string[]) {
    this.#kind = kind;
    this.#specials = specialTokens;
  }

  add(text: string): void {
    this.texts++;
    this.characters += text.length;
    for (const part of splitOnSpecialTokens(text, this.#specials)) {
      const words =
        this.#kind === 'byte-level' ? gpt2PreTokenize(part) : (spmNormalize(part).match(SPM_WORD_PATTERN) ?? []);
      for (const word of words) {
        this.words++;
        this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
      }
    }
  }
}

const encoder = new TextEncoder();

/** A pre-token as byte symbols 0..255 (byte-level training). */
export function wordToBytes(word: string): Int32Array {
  return Int32Array.from(encoder.encode(word));
}

/** The printable byte-level spelling of a pre-token (e.g. ` the` -> `Ġthe`). */
export function byteLevelSpelling(word: string): string {
  const table = byteToUnicodeTable();
  let out = '';
  for (const b of encoder.encode(word)) out += table[b];
  return out;
}
