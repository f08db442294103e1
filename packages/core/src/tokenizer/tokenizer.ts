/** The algorithm family of a tokenizer. */
export type TokenizerKind = 'spm' | 'bpe' | 'wordpiece';

export interface SpecialTokens {
  bos?: number;
  eos?: number;
  /** End of turn, for chat models that have one (e.g. `<|eot_id|>`). */
  eot?: number;
  pad?: number;
  unk?: number;
  sep?: number;
  cls?: number;
  mask?: number;
}

export interface EncodeOptions {
  /** Add BOS/EOS (or CLS/SEP) as the tokenizer's configuration says. Default: true. */
  addSpecialTokens?: boolean;
  /**
   * Recognise special-token text such as `<s>` or `<|eot_id|>` in the input and emit their ids.
   * Default: false, so user text cannot inject control tokens; chat templates turn it on.
   */
  parseSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave control tokens (BOS, EOS, ...) out of the text. Default: true. */
  skipSpecialTokens?: boolean;
}

export interface StreamDecoderOptions extends DecodeOptions {
  /** Ids already emitted before the stream (the prompt's tail): they decide leading spaces; not re-emitted. */
  context?: readonly number[];
}

/** Turns ids into text one at a time, holding back incomplete UTF-8 sequences instead of emitting U+FFFD. */
export interface StreamDecoder {
  /** Adds one id; returns the text that became complete (possibly ''). */
  push(id: number): string;
  /** Returns whatever is held back (an incomplete sequence comes out as U+FFFD). */
  flush(): string;
}

/** Text <-> token ids. Implementations: SentencePiece-style BPE, byte-level BPE, WordPiece. */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokens>;
  /** Whether `encode` adds BOS / EOS by default. */
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** The model's own chat template (Jinja), when its files carry one. */
  readonly chatTemplate?: string;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** The vocabulary entry of an id, as stored (e.g. `▁the`, `Ġthe`, `##ing`, `<0x0A>`). */
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** Control/special tokens (BOS, EOS, chat markers) that decode to nothing by default. */
  isSpecial(id: number): boolean;
  createStreamDecoder(options?: StreamDecoderOptions): StreamDecoder;
}

/** Ids that end a generation by default: EOS and end-of-turn. */
export function endOfGenerationIds(tokenizer: Tokenizer): number[] {
  const ids = new Set<number>();
  if (tokenizer.special.eos !== undefined) ids.add(tokenizer.special.eos);
  if (tokenizer.special.eot !== undefined) ids.add(tokenizer.special.eot);
  return [...ids];
}
