import { InvalidArgumentError, ModelFormatError, throwIfAborted } from '../errors/index.js';
import { readGguf } from '../formats/gguf-reader.js';
import { readLlama2cTokenizer } from '../formats/llama2c.js';
import { sentencePieceTokenizer } from '../formats/sentencepiece-model.js';
import { parseJsonText, parseTokenizerJson } from '../formats/tokenizer-json.js';
import { tokenizerFromGguf } from './gguf-vocab.js';
import type { Tokenizer } from './tokenizer.js';

/** Tokenizer files already in memory (browser, tests, or bytes read by `@slmkit/core/node`). */
export type TokenizerContents =
  /** Hugging Face tokenizer.json (+ tokenizer_config.json), parsed objects or JSON text. */
  | { tokenizerJson: unknown; tokenizerConfig?: unknown }
  /** A GGUF file (only its metadata is read). */
  | { gguf: Uint8Array }
  /** A SentencePiece `.model` protobuf. */
  | { sentencePieceModel: Uint8Array }
  /** A llama2.c `tok*.bin`; the file does not store its size, so pass the model's vocabulary size. */
  | { llama2cTokenizer: Uint8Array; vocabSize?: number };

export interface LoadTokenizerOptions {
  /** Named in error messages. */
  file?: string;
  signal?: AbortSignal;
}

function parsedJson(value: unknown, file: string | undefined, what: string): unknown {
  return typeof value === 'string' || value instanceof Uint8Array ? parseJsonText(value, file, what) : value;
}

/** Builds a tokenizer from files in memory. Pure: no file system or network access. */
export function loadTokenizer(contents: TokenizerContents, options: LoadTokenizerOptions = {}): Tokenizer {
  throwIfAborted(options.signal, 'Loading the tokenizer');
  const file = options.file;
  if ('tokenizerJson' in contents) {
    const tokenizerJson = parsedJson(contents.tokenizerJson, file, 'tokenizer.json');
    const tokenizerConfig =
      contents.tokenizerConfig === undefined
        ? undefined
        : parsedJson(contents.tokenizerConfig, file, 'tokenizer_config.json');
    return parseTokenizerJson({ tokenizerJson, tokenizerConfig }, file);
  }
  if ('gguf' in contents) return tokenizerFromGguf(readGguf(contents.gguf, file).metadata, file);
  if ('sentencePieceModel' in contents) return sentencePieceTokenizer(contents.sentencePieceModel, { file });
  if ('llama2cTokenizer' in contents)
    return readLlama2cTokenizer(contents.llama2cTokenizer, { vocabSize: contents.vocabSize, file });
  throw new InvalidArgumentError(
    'unknown tokenizer contents: expected tokenizerJson, gguf, sentencePieceModel or llama2cTokenizer',
    {
      field: 'source',
    },
  );
}

/** What kind of tokenizer file some bytes are, from their first bytes and name. */
export function detectTokenizerFormat(
  head: Uint8Array,
  name: string,
): 'gguf' | 'tokenizer.json' | 'sentencepiece' | 'llama2c' {
  if (head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return 'gguf';
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'tokenizer.json';
  if (lower.endsWith('.model')) return 'sentencepiece';
  if (lower.endsWith('.bin')) return 'llama2c';
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] === 0x7b) return 'tokenizer.json';
  // A SentencePiece ModelProto starts with field 1 (pieces), length-delimited: tag byte 0x0a.
  if (head[0] === 0x0a) return 'sentencepiece';
  throw new ModelFormatError(
    'not a tokenizer file this library knows (GGUF, tokenizer.json, SentencePiece .model, llama2.c .bin)',
    {
      file: name,
      offset: 0,
    },
  );
}

/** A short human description (for `slm tokenize` / `slm inspect`). */
export function describeTokenizer(tokenizer: Tokenizer): string {
  const names: string[] = [];
  for (const [key, id] of Object.entries(tokenizer.special)) {
    if (id !== undefined) names.push(`${key}=${id} ${JSON.stringify(tokenizer.idToToken(id))}`);
  }
  const kind = { spm: 'SentencePiece-style BPE', bpe: 'byte-level BPE', wordpiece: 'WordPiece' }[tokenizer.kind];
  const flags = [tokenizer.addBos ? 'adds BOS' : 'no BOS', tokenizer.addEos ? 'adds EOS' : 'no EOS'];
  if (tokenizer.chatTemplate) flags.push('has a chat template');
  return `${kind}, ${tokenizer.vocabSize} tokens; ${flags.join(', ')}; special: ${names.join(', ') || 'none'}`;
}
