import type { DecodeOptions, StreamDecoder, StreamDecoderOptions } from './tokenizer.js';

type Decode = (ids: readonly number[], options?: DecodeOptions) => string;

const REPLACEMENT = '\uFFFD';

/**
 * Incremental decoding that works for any tokenizer with a whole-sequence `decode`: it decodes a short window
 * (the ids already emitted as context plus the new ones) and emits only the new suffix, holding text back while it
 * ends in U+FFFD (an incomplete UTF-8 sequence split across byte tokens). Decoding the window with context makes
 * leading-space rules (SentencePiece's dummy prefix, WordPiece's `##`) come out exactly as in a full decode.
 */
export class WindowedStreamDecoder implements StreamDecoder {
  readonly #decode: Decode;
  readonly #options: DecodeOptions;
  #ids: number[];
  #prefixOffset: number;
  #readOffset: number;

  constructor(decode: Decode, options: StreamDecoderOptions = {}) {
    this.#decode = decode;
    this.#options = { skipSpecialTokens: options.skipSpecialTokens ?? true };
    const context = options.context ? options.context.slice(-4) : [];
    this.#ids = [...context];
    this.#prefixOffset = 0;
    this.#readOffset = context.length;
  }

  push(id: number): string {
    this.#ids.push(id);
    const prefixText = this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset), this.#options);
    const fullText = this.#decode(this.#ids.slice(this.#prefixOffset), this.#options);
    if (fullText.length > prefixText.length && !fullText.endsWith(REPLACEMENT) && fullText.startsWith(prefixText)) {
      const delta = fullText.slice(prefixText.length);
      this.#prefixOffset = this.#readOffset;
      this.#readOffset = this.#ids.length;
      this.#compact();
      return delta;
    }
    if (!fullText.startsWith(prefixText) && !fullText.endsWith(REPLACEMENT)) {
      // The new id changed how earlier ids decode (rare normalisation effects): emit from the common prefix.
      let common = 0;
      while (common < prefixText.length && prefixText[common] === fullText[common]) common++;
      const delta = fullText.slice(common);
      this.#prefixOffset = this.#readOffset;
      this.#readOffset = this.#ids.length;
      this.#compact();
      return delta;
    }
    return '';
  }

  flush(): string {
    if (this.#readOffset >= this.#ids.length) return '';
    const prefixText = this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset), this.#options);
    const fullText = this.#decode(this.#ids.slice(this.#prefixOffset), this.#options);
    this.#prefixOffset = this.#readOffset = this.#ids.length;
    return fullText.startsWith(prefixText) ? fullText.slice(prefixText.length) : fullText;
  }

  #compact(): void {
    if (this.#prefixOffset > 64) {
      this.#ids = this.#ids.slice(this.#prefixOffset);
      this.#readOffset -= this.#prefixOffset;
      this.#prefixOffset = 0;
    }
  }
}
