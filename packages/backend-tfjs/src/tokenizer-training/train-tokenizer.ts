import { InvalidArgumentError, throwIfAborted } from '@slmkit/core';
import { learnBpeMerges, type WordTable } from './bpe-merges.js';
import { byteToUnicodeTable } from './byte-level.js';
import {
  buildTokenizerConfig,
  buildTokenizerJson,
  type HfTokenizerJson,
  type TokenizerJsonInput,
  type TrainedTokenizerKind,
} from './tokenizer-json.js';
import { WordCounter, wordToBytes } from './word-counter.js';

/** Default minimum count of a pair before it is merged. */
export const DEFAULT_MIN_PAIR_FREQUENCY = 2;
/** Default share of the corpus's characters that the SentencePiece-style alphabet covers; rarer ones fall back to bytes. */
export const DEFAULT_CHARACTER_COVERAGE = 0.9995;
/** Default `model_max_length` written to tokenizer_config.json. */
export const DEFAULT_MODEL_MAX_LENGTH = 2048;

export interface TokenizerTrainingProgress {
  phase: 'counting' | 'merging';
  /** Texts read (counting) or merges learned (merging). */
  done: number;
  /** Merges wanted (merging only). */
  total?: number;
}

export interface TrainTokenizerOptions {
  /** `byte-level`: GPT-2-style ByteLevel BPE. `spm`: SentencePiece-style BPE (`▁` for spaces) with byte fallback. */
  kind: TrainedTokenizerKind;
  /** Total vocabulary size, special tokens included. */
  vocabSize: number;
  /** Extra special tokens (e.g. chat markers), after the BOS/EOS/UNK/PAD ones. */
  specialTokens?: readonly string[];
  /** Default: `<s>` (spm), `<|endoftext|>` (byte-level). */
  bosToken?: string;
  /** Default: `</s>` (spm), `<|endoftext|>` (byte-level). */
  eosToken?: string;
  /** Default: `<unk>` (spm); none for byte-level, which never needs one. */
  unkToken?: string;
  /** Default: none. */
  padToken?: string;
  /** Add BOS when encoding. Default: true for spm, false for byte-level (as GPT-2). */
  addBos?: boolean;
  /** Add EOS when encoding. Default: false. */
  addEos?: boolean;
  /** Default: DEFAULT_MIN_PAIR_FREQUENCY (2). */
  minFrequency?: number;
  /** spm only. Default: DEFAULT_CHARACTER_COVERAGE (0.9995). */
  characterCoverage?: number;
  /** Default: DEFAULT_MODEL_MAX_LENGTH (2048). */
  modelMaxLength?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TokenizerTrainingProgress) => void;
}

export interface TrainedTokenizer {
  kind: TrainedTokenizerKind;
  vocabSize: number;
  /** Number of learned merges. */
  mergeCount: number;
  /** Tokens before any merge: specials, 256 bytes, and (spm) the character alphabet. */
  baseSize: number;
  specialTokens: string[];
  tokenizerJson: HfTokenizerJson;
  tokenizerConfig: Record<string, unknown>;
  stats: { texts: number; characters: number; words: number; uniqueWords: number };
}

function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

interface ResolvedSpecials {
  list: string[];
  bos?: string;
  eos?: string;
  unk?: string;
  pad?: string;
}

function resolveSpecials(options: TrainTokenizerOptions): ResolvedSpecials {
  const spm = options.kind === 'spm';
  const bos = options.bosToken ?? (spm ? '<s>' : '<|endoftext|>');
  const eos = options.eosToken ?? (spm ? '</s>' : '<|endoftext|>');
  const unk = options.unkToken ?? (spm ? '<unk>' : undefined);
  const pad = options.padToken;
  const list: string[] = [];
  for (const t of [unk, bos, eos, pad, ...(options.specialTokens ?? [])]) {
    if (t === undefined) continue;
    if (t === '') throw new InvalidArgumentError('a special token may not be empty', { field: 'specialTokens' });
    if (!list.includes(t)) list.push(t);
  }
  return { list, bos, eos, unk, pad };
}

function checkOptions(options: TrainTokenizerOptions): void {
  if (options.kind !== 'byte-level' && options.kind !== 'spm') {
    throw new InvalidArgumentError(`unknown tokenizer kind "${String(options.kind)}"; choose byte-level or spm`, {
      field: 'kind',
      value: options.kind,
    });
  }
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < 1) {
    throw new InvalidArgumentError(`vocab size must be a positive integer, got ${options.vocabSize}`, {
      field: 'vocabSize',
      value: options.vocabSize,
    });
  }
  const coverage = options.characterCoverage ?? DEFAULT_CHARACTER_COVERAGE;
  if (!(coverage > 0 && coverage <= 1)) {
    throw new InvalidArgumentError(`character coverage must be in (0, 1], got ${coverage}`, {
      field: 'characterCoverage',
      value: coverage,
    });
  }
  const minFrequency = options.minFrequency ?? DEFAULT_MIN_PAIR_FREQUENCY;
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new InvalidArgumentError(`min frequency must be an integer >= 1, got ${minFrequency}`, {
      field: 'minFrequency',
      value: minFrequency,
    });
  }
}

function tooSmall(vocabSize: number, base: number, parts: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `vocab size ${vocabSize} is smaller than the base alphabet of ${base} tokens (${parts})`,
    {
      field: 'vocabSize',
      value: { requested: vocabSize, minimum: base },
    },
  );
}

/** Byte-level base: specials, then the 256 byte characters in byte order. */
function byteLevelBase(counter: WordCounter): { base: string[]; table: WordTable } {
  const base = [...byteToUnicodeTable()];
  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [word, count] of counter.counts) {
    words.push(wordToBytes(word));
    counts.push(count);
  }
  return { base, table: { words, counts } };
}

/** SentencePiece-style base: the characters that cover `coverage` of the corpus, most frequent first. */
function spmBase(
  counter: WordCounter,
  coverage: number,
  reserved: Set<string>,
): { alphabet: string[]; table: WordTable } {
  const charCounts = new Map<string, number>();
  let total = 0;
  for (const [word, count] of counter.counts) {
    for (const ch of word) {
      charCounts.set(ch, (charCounts.get(ch) ?? 0) + count);
      total += count;
    }
  }
  const sorted = [...charCounts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const alphabet: string[] = [];
  let covered = 0;
  for (const [ch, count] of sorted) {
    if (covered >= coverage * total) break;
    covered += count;
    if (!reserved.has(ch)) alphabet.push(ch);
  }
  const index = new Map(alphabet.map((ch, i) => [ch, i]));
  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [word, count] of counter.counts) {
    let segment: number[] = [];
    const flush = () => {
      if (segment.length > 1) {
        words.push(Int32Array.from(segment));
        counts.push(count);
      }
      segment = [];
    };
    for (const ch of word) {
      const id = index.get(ch);
      if (id === undefined) flush();
      else segment.push(id);
    }
    flush();
  }
  return { alphabet, table: { words, counts } };
}

/**
 * Trains a BPE tokenizer on `texts` (each a line or document; pass lines with their `\n` to learn newline tokens).
 * The corpus is streamed: only unique words and their counts are held. Throws InvalidArgumentError for an empty
 * corpus, a vocab size below the base alphabet, or one larger than the corpus allows (both numbers named).
 */
export async function trainTokenizer(
  texts: Iterable<string> | AsyncIterable<string>,
  options: TrainTokenizerOptions,
): Promise<TrainedTokenizer> {
  checkOptions(options);
  const specials = resolveSpecials(options);
  const { vocabSize, kind } = options;
  const minFrequency = options.minFrequency ?? DEFAULT_MIN_PAIR_FREQUENCY;
  const fixed = specials.list.length + 256;
  if (vocabSize < fixed) throw tooSmall(vocabSize, fixed, `${specials.list.length} special + 256 byte tokens`);

  const counter = new WordCounter(kind, specials.list);
  for await (const text of texts) {
    counter.add(text);
    if (counter.texts % 1024 === 0) {
      throwIfAborted(options.signal, 'Tokenizer training');
      options.onProgress?.({ phase: 'counting', done: counter.texts });
    }
  }
  options.onProgress?.({ phase: 'counting', done: counter.texts });
  if (counter.words === 0) {
    throw new InvalidArgumentError(`the corpus is empty: ${counter.texts} texts hold no characters to train on`, {
      field: 'corpus',
      value: counter.texts,
    });
  }

  const tokens = [...specials.list];
  let table: WordTable;
  let initial: string[];
  if (kind === 'byte-level') {
    const b = byteLevelBase(counter);
    initial = b.base;
    table = b.table;
    tokens.push(...b.base);
  } else {
    const reserved = new Set(specials.list);
    const s = spmBase(counter, options.characterCoverage ?? DEFAULT_CHARACTER_COVERAGE, reserved);
    const base = fixed + s.alphabet.length;
    if (vocabSize < base)
      throw tooSmall(
        vocabSize,
        base,
        `${specials.list.length} special + 256 byte + ${s.alphabet.length} character tokens`,
      );
    for (let b = 0; b < 256; b++) tokens.push(byteToken(b));
    tokens.push(...s.alphabet);
    initial = s.alphabet;
    table = s.table;
  }
  const baseSize = tokens.length;
  const wanted = vocabSize - baseSize;
  const taken = new Set(tokens);
  const learned = learnBpeMerges(table, initial, {
    maxMerges: wanted,
    minFrequency,
    isTaken: (joined) => taken.has(joined),
    signal: options.signal,
    onProgress: (done, total) => options.onProgress?.({ phase: 'merging', done, total }),
  });
  if (learned.merges.length < wanted) {
    const most = baseSize + learned.merges.length;
    throw new InvalidArgumentError(
      `vocab size ${vocabSize} is larger than this corpus allows: at most ${most} tokens (${baseSize} base + ` +
        `${learned.merges.length} merges of pairs seen at least ${minFrequency} times)`,
      { field: 'vocabSize', value: { requested: vocabSize, maximum: most } },
    );
  }
  for (let i = initial.length; i < learned.symbols.length; i++) tokens.push(learned.symbols[i]);
  const merges = learned.merges.map(([a, b]) => [learned.symbols[a], learned.symbols[b]] as const);

  const input: TokenizerJsonInput = {
    kind,
    tokens,
    merges,
    specialTokens: specials.list,
    bosToken: specials.bos,
    eosToken: specials.eos,
    unkToken: specials.unk,
    padToken: specials.pad,
    addBos: options.addBos ?? kind === 'spm',
    addEos: options.addEos ?? false,
    modelMaxLength: options.modelMaxLength ?? DEFAULT_MODEL_MAX_LENGTH,
  };
  const tokenizerJson = buildTokenizerJson(input);
  return {
    kind,
    vocabSize: tokens.length,
    mergeCount: merges.length,
    baseSize,
    specialTokens: specials.list,
    tokenizerJson,
    tokenizerConfig: buildTokenizerConfig(input, tokenizerJson),
    stats: {
      texts: counter.texts,
      characters: counter.characters,
      words: counter.words,
      uniqueWords: counter.counts.size,
    },
  };
}
