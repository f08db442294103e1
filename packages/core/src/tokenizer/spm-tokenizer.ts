import { InvalidArgumentError } from '../errors/index.js';
import { concatArrays } from '../model/concat-arrays.js';
import { MinHeap } from './min-heap.js';
import { SpecialTokenSplitter } from './special-token-splitter.js';
import { WindowedStreamDecoder } from './stream-decoder.js';
import { parseByteToken, TokenType } from './token-type.js';
import type {
  DecodeOptions,
  EncodeOptions,
  SpecialTokens,
  StreamDecoder,
  StreamDecoderOptions,
  Tokenizer,
} from './tokenizer.js';

const SPACE_MARK = '\u2581'; // ▁

export interface SpmVocabulary {
  /** Pieces as SentencePiece stores them, with `▁` for a space. */
  pieces: readonly string[];
  scores: ArrayLike<number>;
  types: ArrayLike<number>;
  special: SpecialTokens;
  addBos: boolean;
  addEos: boolean;
  /** Prepend `▁` to the text (SentencePiece's dummy prefix). Default true. */
  addSpacePrefix?: boolean;
  chatTemplate?: string;
}

interface Symbol {
  start: number;
  length: number;
  prev: number;
  next: number;
}

interface Bigram {
  left: number;
  right: number;
  score: number;
  size: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * SentencePiece-style BPE: merges the highest-scoring adjacent pair of pieces until none is in the vocabulary, then
 * falls back to `<0xXX>` byte tokens for characters the vocabulary lacks (Llama 1/2, the stories tokenizer). It
 * follows llama.cpp's `llm_tokenizer_spm` so ids match llama.cpp for the same vocabulary.
 */
export class SpmTokenizer implements Tokenizer {
  readonly kind = 'spm' as const;
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokens>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  readonly chatTemplate?: string;
  readonly #pieces: readonly string[];
  readonly #scores: ArrayLike<number>;
  readonly #types: ArrayLike<number>;
  readonly #pieceToId = new Map<string, number>();
  readonly #byteToId = new Int32Array(256).fill(-1);
  readonly #pieceBytes: Uint8Array[];
  readonly #splitter: SpecialTokenSplitter;
  /** User-defined tokens only: llama.cpp matches these even when special tokens are not parsed. */
  readonly #userSplitter: SpecialTokenSplitter;

  constructor(vocab: SpmVocabulary) {
    const n = vocab.pieces.length;
    if (vocab.scores.length !== n || vocab.types.length !== n) {
      throw new InvalidArgumentError('pieces, scores and types must have the same length', { field: 'SpmVocabulary' });
    }
    this.vocabSize = n;
    this.#pieces = vocab.pieces;
    this.#scores = vocab.scores;
    this.#types = vocab.types;
    this.special = { ...vocab.special };
    this.addBos = vocab.addBos;
    this.addEos = vocab.addEos;
    this.addSpacePrefix = vocab.addSpacePrefix ?? true;
    this.chatTemplate = vocab.chatTemplate;
    this.#pieceBytes = new Array(n);
    const specials: Array<{ text: string; id: number }> = [];
    for (let id = 0; id < n; id++) {
      const piece = vocab.pieces[id];
      const type = vocab.types[id];
      if (!this.#pieceToId.has(piece)) this.#pieceToId.set(piece, id);
      const byte = type === TokenType.byte ? parseByteToken(piece) : undefined;
      if (byte !== undefined) {
        if (this.#byteToId[byte] < 0) this.#byteToId[byte] = id;
        this.#pieceBytes[id] = Uint8Array.of(byte);
      } else if (type === TokenType.control) {
        this.#pieceBytes[id] = new Uint8Array(0);
      } else if (type === TokenType.unknown) {
        this.#pieceBytes[id] = utf8Encoder.encode(' \u2047 ');
      } else {
        this.#pieceBytes[id] = utf8Encoder.encode(piece.replaceAll(SPACE_MARK, ' '));
      }
      if (type === TokenType.control || type === TokenType.userDefined) specials.push({ text: piece, id });
    }
    this.#splitter = new SpecialTokenSplitter(specials);
    this.#userSplitter = new SpecialTokenSplitter(specials.filter((t) => vocab.types[t.id] === TokenType.userDefined));
  }

  idToToken(id: number): string | undefined {
    return this.#pieces[id];
  }

  tokenToId(token: string): number | undefined {
    return this.#pieceToId.get(token);
  }

  tokenType(id: number): number {
    return this.#types[id];
  }

  score(id: number): number {
    return this.#scores[id];
  }

  isSpecial(id: number): boolean {
    return this.#types[id] === TokenType.control;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecialTokens ?? true;
    const out: number[] = [];
    if (addSpecial && this.addBos && this.special.bos !== undefined) out.push(this.special.bos);
    const fragments = (options.parseSpecialTokens ? this.#splitter : this.#userSplitter).split(text);
    let previousWasSpecial = true;
    for (const fragment of fragments) {
      if (fragment.id !== undefined) {
        out.push(fragment.id);
        previousWasSpecial = true;
        continue;
      }
      let body = fragment.text;
      if (body.length === 0) continue;
      if (this.addSpacePrefix && previousWasSpecial) body = ` ${body}`;
      this.#encodeText(body.replaceAll(' ', SPACE_MARK), out);
      previousWasSpecial = false;
    }
    if (addSpecial && this.addEos && this.special.eos !== undefined) out.push(this.special.eos);
    return out;
  }

  #encodeText(text: string, out: number[]): void {
    const chars = Array.from(text);
    const symbols: Symbol[] = [];
    const offsets: number[] = [];
    let offset = 0;
    for (const ch of chars) {
      offsets.push(offset);
      offset += ch.length;
    }
    for (let i = 0; i < chars.length; i++) {
      symbols.push({
        start: offsets[i],
        length: chars[i].length,
        prev: i - 1,
        next: i + 1 < chars.length ? i + 1 : -1,
      });
    }
    const heap = new MinHeap<Bigram>((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));
    const tryAddBigram = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const piece = text.slice(symbols[left].start, symbols[right].start + symbols[right].length);
      const id = this.#pieceToId.get(piece);
      if (id === undefined) return;
      heap.push({ left, right, score: this.#scores[id], size: piece.length });
    };
    for (let i = 1; i < symbols.length; i++) tryAddBigram(i - 1, i);
    for (let bigram = heap.pop(); bigram !== undefined; bigram = heap.pop()) {
      const left = symbols[bigram.left];
      const right = symbols[bigram.right];
      if (left.length === 0 || right.length === 0 || left.length + right.length !== bigram.size) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = bigram.left;
      tryAddBigram(left.prev, bigram.left);
      tryAddBigram(bigram.left, left.next);
    }
    for (let i = 0; i !== -1 && i < symbols.length; i = symbols[i].next) {
      const symbol = symbols[i];
      const piece = text.slice(symbol.start, symbol.start + symbol.length);
      const id = this.#pieceToId.get(piece);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (const byte of utf8Encoder.encode(piece)) {
        const byteId = this.#byteToId[byte];
        if (byteId >= 0) out.push(byteId);
        else if (this.special.unk !== undefined) out.push(this.special.unk);
      }
    }
  }

  /** The bytes a token stands for when decoded (empty for control tokens). */
  tokenBytes(id: number): Uint8Array {
    const bytes = this.#pieceBytes[id];
    if (bytes === undefined)
      throw new InvalidArgumentError(`token id ${id} is outside the vocabulary of ${this.vocabSize}`, { value: id });
    return bytes;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? true;
    const chunks: Uint8Array[] = [];
    let atStart = true;
    for (const id of ids) {
      let bytes: Uint8Array;
      if (this.isSpecial(id)) {
        if (skipSpecial) continue;
        bytes = utf8Encoder.encode(this.#pieces[id]);
      } else {
        bytes = this.tokenBytes(id);
      }
      if (atStart && this.addSpacePrefix && bytes[0] === 0x20) bytes = bytes.subarray(1);
      atStart = false;
      chunks.push(bytes);
    }
    return utf8Decoder.decode(concatArrays(chunks, Uint8Array));
  }

  createStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
    return new WindowedStreamDecoder((ids, o) => this.decode(ids, o), options);
  }
}
