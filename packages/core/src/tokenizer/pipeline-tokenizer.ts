import { InvalidArgumentError } from '../errors/index.js';
import type { Decoder } from './decoders.js';
import type { Normalizer } from './normalizers.js';
import type { PreTokenizer } from './pre-tokenizers.js';
import { SpecialTokenSplitter, type SplitterToken } from './special-token-splitter.js';
import { WindowedStreamDecoder } from './stream-decoder.js';
import type {
  DecodeOptions,
  EncodeOptions,
  SpecialTokens,
  StreamDecoder,
  StreamDecoderOptions,
  Tokenizer,
  TokenizerKind,
} from './tokenizer.js';

/** The model step of a pipeline: one pre-tokenized word to ids. */
export interface WordModel {
  tokenize(word: string, out: number[]): void;
}

/** A token matched verbatim in the input before normalisation (Hugging Face `added_tokens`). */
export interface AddedToken extends SplitterToken {
  /** Control token: only matched when `parseSpecialTokens` is on, and skipped by `decode` by default. */
  special: boolean;
  /**
   * Match against the normalised text (the content is normalised too), as Hugging Face does for
   * `normalized: true`; otherwise match the raw input before normalisation. Default false.
   */
  normalized?: boolean;
}

export interface PipelineTokenizerParts {
  kind: TokenizerKind;
  /** Token text by id (added tokens included). */
  vocab: readonly string[];
  model: WordModel;
  normalizer?: Normalizer;
  preTokenizer?: PreTokenizer;
  decoder?: Decoder;
  addedTokens: readonly AddedToken[];
  /** Ids added before / after the text when `addSpecialTokens` is on (the post-processor's template). */
  prefixIds: readonly number[];
  suffixIds: readonly number[];
  special: SpecialTokens;
  chatTemplate?: string;
  /** What the tokenizer was built from, for serialisation (tokenizerToJson, tokenizerToGgufMetadata). */
  origin: TokenizerOrigin;
}

/** Where a pipeline tokenizer came from, kept so it can be written back out faithfully. */
export type TokenizerOrigin =
  | {
      format: 'tokenizer.json';
      tokenizerJson: Readonly<Record<string, unknown>>;
      tokenizerConfig: Readonly<Record<string, unknown>>;
    }
  | { format: 'gguf-bpe'; pre: string; merges: ReadonlyArray<readonly [string, string]>; tokenTypes: ArrayLike<number> }
  | { format: 'gguf-wpm'; tokenTypes: ArrayLike<number> };

/**
 * A tokenizer assembled from Hugging Face-style parts: added-token split -> normalizer -> pre-tokenizer -> model
 * (BPE or WordPiece) -> template; decoding runs the decoder chain. Byte-level BPE (GPT-2, Llama 3), SentencePiece
 * converted to BPE with byte fallback (Llama 2, Gemma) and WordPiece (BERT) are all instances.
 */
export class PipelineTokenizer implements Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokens>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly chatTemplate?: string;
  readonly origin: TokenizerOrigin;
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  readonly addedTokens: readonly AddedToken[];
  readonly #parts: PipelineTokenizerParts;
  readonly #tokenToId = new Map<string, number>();
  readonly #specialIds = new Set<number>();
  /** Splitters over the raw input (tokens with normalized: false) and the normalised text: all / non-special. */
  readonly #rawAll: SpecialTokenSplitter;
  readonly #rawUser: SpecialTokenSplitter;
  readonly #normAll: SpecialTokenSplitter;
  readonly #normUser: SpecialTokenSplitter;

  constructor(parts: PipelineTokenizerParts) {
    this.#parts = parts;
    this.kind = parts.kind;
    this.vocabSize = parts.vocab.length;
    this.special = { ...parts.special };
    this.chatTemplate = parts.chatTemplate;
    this.origin = parts.origin;
    this.prefixIds = [...parts.prefixIds];
    this.suffixIds = [...parts.suffixIds];
    this.addedTokens = parts.addedTokens;
    this.addBos = parts.special.bos !== undefined && parts.prefixIds.includes(parts.special.bos);
    this.addEos = parts.special.eos !== undefined && parts.suffixIds.includes(parts.special.eos);
    for (let id = 0; id < parts.vocab.length; id++) {
      const t = parts.vocab[id];
      if (t !== undefined && !this.#tokenToId.has(t)) this.#tokenToId.set(t, id);
    }
    for (const t of parts.addedTokens) {
      if (t.special) this.#specialIds.add(t.id);
      this.#tokenToId.set(t.text, t.id);
    }
    const raw = parts.addedTokens.filter((t) => !t.normalized || !parts.normalizer);
    const norm = parts.addedTokens
      .filter((t) => t.normalized && parts.normalizer)
      .map((t) => ({ ...t, text: (parts.normalizer as Normalizer)(t.text) }));
    this.#rawAll = new SpecialTokenSplitter(raw);
    this.#rawUser = new SpecialTokenSplitter(raw.filter((t) => !t.special));
    this.#normAll = new SpecialTokenSplitter(norm);
    this.#normUser = new SpecialTokenSplitter(norm.filter((t) => !t.special));
  }

  idToToken(id: number): string | undefined {
    return this.#parts.vocab[id];
  }

  tokenToId(token: string): number | undefined {
    return this.#tokenToId.get(token);
  }

  isSpecial(id: number): boolean {
    return this.#specialIds.has(id);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecialTokens ?? true;
    const out: number[] = addSpecial ? [...this.prefixIds] : [];
    const rawSplitter = options.parseSpecialTokens ? this.#rawAll : this.#rawUser;
    const normSplitter = options.parseSpecialTokens ? this.#normAll : this.#normUser;
    const fragments = rawSplitter.split(text);
    const { normalizer, preTokenizer, model } = this.#parts;
    for (let k = 0; k < fragments.length; k++) {
      const fragment = fragments[k];
      if (fragment.id !== undefined) {
        out.push(fragment.id);
        continue;
      }
      const normalized = normalizer ? normalizer(fragment.text) : fragment.text;
      if (normalized.length === 0) continue;
      const pieces = normSplitter.split(normalized);
      for (let j = 0; j < pieces.length; j++) {
        const piece = pieces[j];
        if (piece.id !== undefined) {
          out.push(piece.id);
          continue;
        }
        const words = preTokenizer ? preTokenizer.split([piece.text], k === 0 && j === 0) : [piece.text];
        for (const word of words) if (word.length > 0) model.tokenize(word, out);
      }
    }
    if (addSpecial) for (const id of this.suffixIds) out.push(id);
    return out;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? true;
    const tokens: string[] = [];
    for (const id of ids) {
      const token = this.#parts.vocab[id];
      if (token === undefined) {
        throw new InvalidArgumentError(`token id ${id} is outside the vocabulary of ${this.vocabSize}`, { value: id });
      }
      if (skipSpecial && this.#specialIds.has(id)) continue;
      tokens.push(token);
    }
    const decoder = this.#parts.decoder;
    return (decoder ? decoder(tokens) : tokens).join('');
  }

  createStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
    return new WindowedStreamDecoder((ids, o) => this.decode(ids, o), options);
  }
}
