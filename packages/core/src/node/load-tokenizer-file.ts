import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NotFoundError, throwIfAborted } from '../errors/index.js';
import {
  detectTokenizerFormat,
  type LoadTokenizerOptions,
  loadTokenizer,
  type TokenizerContents,
} from '../tokenizer/load-tokenizer.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { pathExists, readModelFile, statOrThrow } from './read-file.js';

export interface LoadTokenizerFileOptions extends LoadTokenizerOptions {
  /** Vocabulary size for a llama2.c `tok*.bin` (the file does not store it); default: read to the end. */
  vocabSize?: number;
}

async function readJsonIfPresent(path: string): Promise<Uint8Array | undefined> {
  if (!(await pathExists(path))) return undefined;
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Loads a tokenizer from disk: a folder (tokenizer.json + tokenizer_config.json, else tokenizer.model, else
 * tok*.bin / tokenizer.bin), a tokenizer.json, a SentencePiece `.model`, a llama2.c `tok*.bin` or a GGUF file. In-memory
 * contents are accepted too and passed to the pure `loadTokenizer`.
 */
export async function loadTokenizerFile(
  source: string | TokenizerContents,
  options: LoadTokenizerFileOptions = {},
): Promise<Tokenizer> {
  if (typeof source !== 'string') return loadTokenizer(source, options);
  throwIfAborted(options.signal, 'Loading the tokenizer');
  const info = await statOrThrow(source, 'tokenizer');
  if (info.isDirectory()) {
    const json = join(source, 'tokenizer.json');
    if (await pathExists(json)) return loadJson(json, options);
    const spm = join(source, 'tokenizer.model');
    if (await pathExists(spm)) return loadTokenizerFile(spm, options);
    const bins = (await readdir(source)).filter((f) => /^tok.*\.bin$|^tokenizer\.bin$/.test(f)).sort();
    if (bins.length > 0) return loadTokenizerFile(join(source, bins[0]), options);
    throw new NotFoundError('folder holds no tokenizer.json, tokenizer.model or tok*.bin', { file: source });
  }
  const bytes = await readModelFile(source, 'tokenizer file');
  throwIfAborted(options.signal, 'Loading the tokenizer');
  const format = detectTokenizerFormat(bytes.subarray(0, 16), basename(source));
  const file = options.file ?? source;
  switch (format) {
    case 'gguf':
      return loadTokenizer({ gguf: bytes }, { ...options, file });
    case 'tokenizer.json':
      return loadJson(source, options, bytes);
    case 'sentencepiece':
      return loadTokenizer({ sentencePieceModel: bytes }, { ...options, file });
    case 'llama2c':
      return loadTokenizer({ llama2cTokenizer: bytes, vocabSize: options.vocabSize }, { ...options, file });
  }
}

async function loadJson(path: string, options: LoadTokenizerFileOptions, bytes?: Uint8Array): Promise<Tokenizer> {
  const tokenizerJson = bytes ?? (await readModelFile(path, 'tokenizer.json'));
  const tokenizerConfig = await readJsonIfPresent(join(dirname(path), 'tokenizer_config.json'));
  throwIfAborted(options.signal, 'Loading the tokenizer');
  return loadTokenizer({ tokenizerJson, tokenizerConfig }, { ...options, file: options.file ?? path });
}
