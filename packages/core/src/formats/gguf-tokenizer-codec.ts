import { UnsupportedFeatureError } from '../errors/index.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { GgufValue } from './gguf-types.js';

/** Converts between a Tokenizer and GGUF `tokenizer.ggml.*` metadata. */
export interface GgufTokenizerCodec {
  fromMetadata(metadata: ReadonlyMap<string, GgufValue>, file?: string): Tokenizer;
  toMetadata(tokenizer: Tokenizer): Map<string, GgufValue>;
}

let codec: GgufTokenizerCodec | undefined;

/**
 * Kept only so tokenizer/gguf-vocab.ts compiles while it still calls this; formats/gguf-llama.ts now imports
 * gguf-vocab directly (no import side effects). Safe to delete together with that call.
 */
export function setGgufTokenizerCodec(next: GgufTokenizerCodec): void {
  codec = next;
}

export function ggufTokenizerCodec(): GgufTokenizerCodec {
  if (!codec) throw new UnsupportedFeatureError('no GGUF tokenizer codec is installed', { field: 'tokenizer.ggml' });
  return codec;
}
