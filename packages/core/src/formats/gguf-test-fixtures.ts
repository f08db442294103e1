import type { SpmTokenizer } from '../tokenizer/spm-tokenizer.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { GgufValue } from './gguf-types.js';
import { GgufValueType } from './gguf-types.js';

/**
 * SentencePiece `tokenizer.ggml.*` metadata of an SpmTokenizer, written here independently of
 * tokenizer/gguf-vocab.ts so the GGUF tests can check that module's output against it.
 */
export function spmGgufMetadata(tokenizer: SpmTokenizer): Map<string, GgufValue> {
  const n = tokenizer.vocabSize;
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  for (let i = 0; i < n; i++) {
    tokens.push(tokenizer.idToToken(i) ?? '');
    scores.push(Math.fround(tokenizer.score(i)));
    types.push(tokenizer.tokenType(i));
  }
  const meta = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', { type: GgufValueType.string, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: GgufValueType.array, itemType: GgufValueType.string, value: tokens }],
    ['tokenizer.ggml.scores', { type: GgufValueType.array, itemType: GgufValueType.float32, value: scores }],
    ['tokenizer.ggml.token_type', { type: GgufValueType.array, itemType: GgufValueType.int32, value: types }],
  ]);
  const ids: Array<[string, number | undefined]> = [
    ['bos', tokenizer.special.bos],
    ['eos', tokenizer.special.eos],
    ['unknown', tokenizer.special.unk],
  ];
  for (const [key, id] of ids)
    if (id !== undefined) meta.set(`tokenizer.ggml.${key}_token_id`, { type: GgufValueType.uint32, value: id });
  meta.set('tokenizer.ggml.add_bos_token', { type: GgufValueType.bool, value: tokenizer.addBos });
  meta.set('tokenizer.ggml.add_eos_token', { type: GgufValueType.bool, value: tokenizer.addEos });
  return meta;
}

/** Options for modelDataToGguf that supply SentencePiece tokenizer metadata directly. */
export function testGgufTokenizerOptions(): { tokenizerMetadata: (tokenizer: Tokenizer) => Map<string, GgufValue> } {
  return { tokenizerMetadata: (tokenizer) => spmGgufMetadata(tokenizer as SpmTokenizer) };
}

/** Deterministic corruptions of a file for fuzz tests: truncations, bit flips and overwritten words. */
export function* corruptedVariants(
  original: Uint8Array,
  options: { count: number; seed: number; hotEnd: number },
): Generator<{ label: string; bytes: Uint8Array }> {
  let state = options.seed >>> 0 || 1;
  const next = () => {
    // xorshift32: enough for choosing positions
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const position = () =>
    next() % 4 === 0 ? next() % original.length : next() % Math.min(options.hotEnd, original.length);
  const words = [0, 0xff, 0x7f, 0x80, 0xfe];
  for (let i = 0; i < options.count; i++) {
    const kind = i % 4;
    if (kind === 0) {
      const length = position();
      yield { label: `truncated to ${length}`, bytes: original.slice(0, length) };
      continue;
    }
    const bytes = original.slice();
    if (kind === 1) {
      const at = position();
      const bit = next() % 8;
      bytes[at] ^= 1 << bit;
      yield { label: `bit ${bit} of byte ${at} flipped`, bytes };
    } else if (kind === 2) {
      const at = position();
      const fill = words[next() % words.length];
      const width = [1, 2, 4, 8][next() % 4];
      for (let j = 0; j < width && at + j < bytes.length; j++) bytes[at + j] = fill;
      yield { label: `${width} bytes at ${at} set to ${fill}`, bytes };
    } else {
      const flips = 2 + (next() % 6);
      for (let j = 0; j < flips; j++) bytes[position()] ^= 1 << (next() % 8);
      yield { label: `${flips} random bit flips (variant ${i})`, bytes };
    }
  }
}
