/**
 * The pre-tokenizer regexes llama.cpp applies for each `tokenizer.ggml.pre` name (src/llama-vocab.cpp): the text is
 * split by each regex in turn, keeping both matches and the gaps between them. Patterns are written in the
 * Oniguruma dialect and compiled through `compileTokenizerRegex`.
 */

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const PORO = ' ?[^(\\s|.,!?…。，、।۔،)]+';

const DEEPSEEK_LLM_LETTERS =
  // Written with escapes where Unicode normalisation would change the character (U+1F7D, U+1FBE, U+2126, ...).
  'A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃';

export interface LlamaCppPreTokenizer {
  /** Regexes applied in order. */
  patterns: readonly string[];
  /** llama.cpp sets `ignore_merges` for these (a word already in the vocabulary is one token). */
  ignoreMerges?: boolean;
}

const DEFAULT: LlamaCppPreTokenizer = {
  patterns: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'],
};

const TABLE: Record<string, LlamaCppPreTokenizer> = {
  default: DEFAULT,
  llama3: { patterns: [LLAMA3], ignoreMerges: true },
  'llama-v3': { patterns: [LLAMA3], ignoreMerges: true },
  'llama-bpe': { patterns: [LLAMA3], ignoreMerges: true },
  falcon3: { patterns: [LLAMA3], ignoreMerges: true },
  dbrx: { patterns: [LLAMA3] },
  'smaug-bpe': { patterns: [LLAMA3] },
  'chatglm-bpe': { patterns: [LLAMA3] },
  'deepseek-llm': {
    patterns: [
      '[\\r\\n]',
      `\\s?[${DEEPSEEK_LLM_LETTERS}]+`,
      '\\s?[!-/:-~！-／：-～‘-‟　-。]+',
      '\\s+$',
      '[一-龥ࠀ-一가-퟿]+',
      '\\p{N}+',
    ],
  },
  'deepseek-v3': {
    patterns: [
      '\\p{N}{1,3}',
      '[一-龥぀-ゟ゠-ヿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  'deepseek-coder': { patterns: ['[\\r\\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'] },
  falcon: {
    patterns: ['[\\p{P}\\$\\+<=>\\^~\\|`]+', GPT2, '[0-9][0-9][0-9]'],
  },
  starcoder: { patterns: ['\\p{N}', GPT2] },
  refact: { patterns: ['\\p{N}', GPT2] },
  'command-r': { patterns: ['\\p{N}', GPT2] },
  smollm: { patterns: ['\\p{N}', GPT2] },
  codeshell: { patterns: ['\\p{N}', GPT2] },
  exaone: { patterns: ['\\p{N}', GPT2] },
  'minerva-7b': { patterns: ['\\p{N}', GPT2] },
  'gpt-2': { patterns: [GPT2] },
  'phi-2': { patterns: [GPT2] },
  'jina-es': { patterns: [GPT2] },
  'jina-de': { patterns: [GPT2] },
  gigachat: { patterns: [GPT2] },
  'jina-v1-en': { patterns: [GPT2] },
  'jina-v2-es': { patterns: [GPT2] },
  'jina-v2-de': { patterns: [GPT2] },
  'jina-v2-code': { patterns: [GPT2] },
  'roberta-bpe': { patterns: [GPT2] },
  mpt: { patterns: [GPT2] },
  olmo: { patterns: [GPT2] },
  jais: { patterns: [GPT2] },
  qwen2: { patterns: [QWEN2] },
  stablelm2: { patterns: [QWEN2] },
  megrez: { patterns: [QWEN2] },
  'poro-chat': { patterns: [PORO] },
  bloom: { patterns: [PORO] },
  'gpt3-finnish': { patterns: [PORO] },
  viking: { patterns: [PORO, '\\p{N}'] },
  tekken: {
    patterns: [
      '[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
    ],
    ignoreMerges: true,
  },
};

/** The llama.cpp pre-tokenizer for a `tokenizer.ggml.pre` value, or undefined for a name llama.cpp does not know. */
export function llamaCppPreTokenizer(name: string | undefined): LlamaCppPreTokenizer | undefined {
  if (name === undefined || name === '') return DEFAULT;
  return Object.hasOwn(TABLE, name) ? TABLE[name] : undefined;
}

export function knownLlamaCppPreTokenizers(): string[] {
  return Object.keys(TABLE);
}

/**
 * The `tokenizer.ggml.pre` name for a tokenizer.json Split regex (as convert_hf_to_gguf.py would pick it by
 * hashing the tokenizer): the llama3 / qwen2 / gpt-2 patterns are recognised; anything else is undefined.
 */
export function preNameForRegex(pattern: string): string | undefined {
  const normalized = pattern.replace(
    /\(\?i:'s\|'t\|'re\|'ve\|'m\|'ll\|'d\)/,
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])",
  );
  if (normalized === LLAMA3) return 'llama-bpe';
  if (normalized === QWEN2) return 'qwen2';
  if (pattern === GPT2 || pattern === `${GPT2}|\\s+`) return 'gpt-2';
  return undefined;
}
