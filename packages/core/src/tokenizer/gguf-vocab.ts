import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { type GgufValue, GgufValueType } from '../formats/gguf-types.js';
import { BpeModel } from './bpe-model.js';
import { byteLevelDecode } from './decoders.js';
import { llamaCppPreTokenizer, preNameForRegex } from './llama-cpp-pre.js';
import { isChineseChar } from './normalizers.js';
import { type AddedToken, PipelineTokenizer } from './pipeline-tokenizer.js';
import { type PreTokenizer, regexSequencePreTokenizer } from './pre-tokenizers.js';
import { SpmTokenizer } from './spm-tokenizer.js';
import { parseByteToken, TokenType } from './token-type.js';
import type { SpecialTokens, Tokenizer } from './tokenizer.js';
import { WordPieceModel } from './wordpiece-model.js';

const SPACE_MARK = '\u2581';

/** Typed, checked access to `tokenizer.ggml.*` metadata. */
class Meta {
  constructor(
    readonly map: ReadonlyMap<string, GgufValue>,
    readonly file?: string,
  ) {}

  fail(key: string, message: string, value?: unknown): never {
    throw new ModelFormatError(message, { file: this.file, field: key, value });
  }

  string(key: string): string | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.string) this.fail(key, `expected a string, found value type ${v.type}`);
    return v.value;
  }

  bool(key: string): boolean | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (v.type === GgufValueType.bool) return v.value;
    this.fail(key, `expected a bool, found value type ${v.type}`);
  }

  /** A token id (any integer type); out-of-range ids are an error. */
  id(key: string, vocabSize: number): number | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    let n: number;
    if (v.type === GgufValueType.uint64 || v.type === GgufValueType.int64) n = Number(v.value);
    else if (
      v.type === GgufValueType.float32 ||
      v.type === GgufValueType.float64 ||
      v.type === GgufValueType.bool ||
      v.type === GgufValueType.string ||
      v.type === GgufValueType.array
    ) {
      this.fail(key, `expected an integer token id, found value type ${v.type}`);
    } else n = Number(v.value);
    // llama.cpp stores "none" as -1 (or 0xFFFFFFFF as uint32).
    if (n === -1 || n === 0xffffffff) return undefined;
    if (!Number.isInteger(n) || n < 0 || n >= vocabSize)
      this.fail(key, `token id ${n} is outside the vocabulary of ${vocabSize}`, n);
    return n;
  }

  strings(key: string): string[] | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.array || v.itemType !== GgufValueType.string)
      this.fail(key, 'expected an array of strings');
    return v.value as string[];
  }

  numbers(key: string): ArrayLike<number> | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (
      v.type !== GgufValueType.array ||
      v.itemType === GgufValueType.array ||
      v.itemType === GgufValueType.string ||
      v.itemType === GgufValueType.bool
    ) {
      this.fail(key, 'expected an array of numbers');
    }
    const arr = v.value as ArrayLike<number | bigint>;
    if (arr.length > 0 && typeof arr[0] === 'bigint') return Array.from(arr as ArrayLike<bigint>, Number);
    return arr as ArrayLike<number>;
  }
}

function commonSpecials(meta: Meta, n: number, defaults: SpecialTokens): SpecialTokens {
  const keys: Array<[keyof SpecialTokens, string]> = [
    ['bos', 'bos_token_id'],
    ['eos', 'eos_token_id'],
    ['eot', 'eot_token_id'],
    ['unk', 'unknown_token_id'],
    ['pad', 'padding_token_id'],
    ['sep', 'seperator_token_id'],
    ['cls', 'cls_token_id'],
    ['mask', 'mask_token_id'],
  ];
  const special: SpecialTokens = {};
  for (const [name, key] of keys) {
    const fullKey = `tokenizer.ggml.${key}`;
    const id = meta.map.has(fullKey) ? meta.id(fullKey, n) : defaults[name];
    if (id !== undefined && id < n) special[name] = id;
  }
  return special;
}

/**
 * llama.cpp's WordPiece preprocessing: every code point is replaced by the first code point of its NFD decomposition
 * (llama.cpp's NFD table is 1:1, so `é` -> `e` and a Hangul syllable -> its leading jamo), marks and controls are
 * dropped, text is lowercased and split on whitespace, punctuation, ASCII symbols and CJK ideographs.
 */
const wpmPreTokenizer: PreTokenizer = {
  split(pieces) {
    const words: string[] = [];
    for (const piece of pieces) {
      let current = '';
      for (const original of piece) {
        const cp = original.normalize('NFD').codePointAt(0) as number;
        const ch = String.fromCodePoint(cp);
        if (/\p{White_Space}/u.test(ch)) {
          if (current) words.push(current);
          current = '';
          continue;
        }
        if (cp === 0 || cp === 0xfffd || /\p{C}|\p{M}/u.test(ch)) continue;
        const lower = ch.toLowerCase();
        if (/\p{P}/u.test(ch) || (cp < 0x7f && /\p{S}/u.test(ch)) || isChineseChar(cp)) {
          if (current) words.push(current);
          words.push(lower);
          current = '';
        } else current += lower;
      }
      if (current) words.push(current);
    }
    return words;
  },
};

function addedTokensFromTypes(tokens: readonly string[], types: ArrayLike<number> | undefined): AddedToken[] {
  const added: AddedToken[] = [];
  if (!types) return added;
  for (let id = 0; id < tokens.length; id++) {
    const t = types[id];
    if (t === TokenType.control) added.push({ id, text: tokens[id], special: true });
    else if (t === TokenType.userDefined) added.push({ id, text: tokens[id], special: false });
  }
  return added;
}

/**
 * A tokenizer from GGUF `tokenizer.ggml.*` metadata: `llama` (SentencePiece-style), `gpt2` (byte-level BPE with the
 * pre-tokenizer named by `tokenizer.ggml.pre`) or `bert` (WordPiece), matching llama.cpp token for token.
 */
export function tokenizerFromGguf(metadata: ReadonlyMap<string, GgufValue>, file?: string): Tokenizer {
  const meta: Meta = new Meta(metadata, file);
  const model = meta.string('tokenizer.ggml.model');
  if (model === undefined)
    meta.fail('tokenizer.ggml.model', 'the file has no tokenizer (tokenizer.ggml.model is missing)');
  const tokens = meta.strings('tokenizer.ggml.tokens');
  if (!tokens || tokens.length === 0) meta.fail('tokenizer.ggml.tokens', 'the vocabulary is missing or empty');
  const n = tokens.length;
  const types = meta.numbers('tokenizer.ggml.token_type');
  if (types && types.length !== n)
    meta.fail('tokenizer.ggml.token_type', `has ${types.length} entries for ${n} tokens`, types.length);
  const scores = meta.numbers('tokenizer.ggml.scores');
  if (scores && scores.length !== n)
    meta.fail('tokenizer.ggml.scores', `has ${scores.length} entries for ${n} tokens`, scores.length);
  const chatTemplate = meta.string('tokenizer.chat_template');

  switch (model) {
    case 'llama': {
      const special = commonSpecials(meta, n, { bos: 1, eos: 2, unk: 0 });
      return new SpmTokenizer({
        pieces: tokens,
        scores: scores ?? new Float32Array(n),
        types: types ?? new Int32Array(n).fill(TokenType.normal),
        special,
        addBos: meta.bool('tokenizer.ggml.add_bos_token') ?? true,
        addEos: meta.bool('tokenizer.ggml.add_eos_token') ?? false,
        addSpacePrefix: meta.bool('tokenizer.ggml.add_space_prefix') ?? true,
        chatTemplate,
      });
    }
    case 'gpt2': {
      const pre = meta.string('tokenizer.ggml.pre') ?? 'default';
      const preset = llamaCppPreTokenizer(pre);
      if (!preset) {
        throw new UnsupportedFeatureError(`unknown pre-tokenizer "${pre}" (llama.cpp would refuse it too)`, {
          file,
          field: 'tokenizer.ggml.pre',
          value: pre,
        });
      }
      const mergeStrings = meta.strings('tokenizer.ggml.merges');
      if (!mergeStrings) meta.fail('tokenizer.ggml.merges', 'a gpt2 tokenizer needs merges');
      const merges = mergeStrings.map((m, i): [string, string] => {
        const space = m.indexOf(' ', 1);
        if (space < 0) meta.fail('tokenizer.ggml.merges', `merge ${i} ${JSON.stringify(m)} is not "left right"`, m);
        return [m.slice(0, space), m.slice(space + 1)];
      });
      const vocab = new Map<string, number>();
      tokens.forEach((t, id) => {
        if (!vocab.has(t)) vocab.set(t, id);
      });
      const special = commonSpecials(meta, n, {});
      const addBos = meta.bool('tokenizer.ggml.add_bos_token') ?? preset.ignoreMerges === true;
      const addEos = meta.bool('tokenizer.ggml.add_eos_token') ?? false;
      return new PipelineTokenizer({
        kind: 'bpe',
        vocab: tokens,
        model: new BpeModel({ vocab, merges, ignoreMerges: preset.ignoreMerges }),
        preTokenizer: regexSequencePreTokenizer(preset.patterns, true),
        decoder: byteLevelDecode,
        addedTokens: addedTokensFromTypes(tokens, types),
        prefixIds: addBos && special.bos !== undefined ? [special.bos] : [],
        suffixIds: addEos && special.eos !== undefined ? [special.eos] : [],
        special,
        chatTemplate,
        origin: { format: 'gguf-bpe', pre, merges, tokenTypes: types ?? new Int32Array(n).fill(TokenType.normal) },
      });
    }
    case 'bert': {
      const special = commonSpecials(meta, n, { bos: 101, unk: 100, sep: 102, pad: 0, mask: 103 });
      if (special.cls === undefined && special.bos !== undefined) special.cls = special.bos;
      const starts = new Map<string, number>();
      const continuations = new Map<string, number>();
      tokens.forEach((t, id) => {
        if (t.startsWith(SPACE_MARK)) {
          if (!starts.has(t.slice(1))) starts.set(t.slice(1), id);
        } else if (!continuations.has(t)) continuations.set(t, id);
      });
      const unk = special.unk;
      if (unk === undefined) meta.fail('tokenizer.ggml.unknown_token_id', 'a bert tokenizer needs an unknown token');
      const addBos = meta.bool('tokenizer.ggml.add_bos_token') ?? true;
      const addEos = meta.bool('tokenizer.ggml.add_eos_token') ?? false;
      const first = special.cls ?? special.bos;
      const suffix: number[] = [];
      if (special.sep !== undefined) suffix.push(special.sep);
      if (addEos && special.eos !== undefined) suffix.push(special.eos);
      return new PipelineTokenizer({
        kind: 'wordpiece',
        vocab: tokens,
        model: new WordPieceModel({ starts, continuations, unk, maxInputCharsPerWord: Number.POSITIVE_INFINITY }),
        preTokenizer: wpmPreTokenizer,
        decoder: (pieces) => {
          const text = pieces.map((p) => p.replaceAll(SPACE_MARK, ' ')).join('');
          return [text.startsWith(' ') ? text.slice(1) : text];
        },
        addedTokens: addedTokensFromTypes(tokens, types),
        prefixIds: addBos && first !== undefined ? [first] : [],
        suffixIds: suffix,
        special,
        chatTemplate,
        origin: { format: 'gguf-wpm', tokenTypes: types ?? new Int32Array(n).fill(TokenType.normal) },
      });
    }
    default:
      throw new UnsupportedFeatureError(`tokenizer model "${model}" is not supported (llama, gpt2 and bert are)`, {
        file,
        field: 'tokenizer.ggml.model',
        value: model,
      });
  }
}

const str = (value: string): GgufValue => ({ type: GgufValueType.string, value });
const u32 = (value: number): GgufValue => ({ type: GgufValueType.uint32, value });
const bool = (value: boolean): GgufValue => ({ type: GgufValueType.bool, value });
const strArray = (value: string[]): GgufValue => ({ type: GgufValueType.array, itemType: GgufValueType.string, value });
const f32Array = (value: number[]): GgufValue => ({
  type: GgufValueType.array,
  itemType: GgufValueType.float32,
  value,
});
const i32Array = (value: number[]): GgufValue => ({ type: GgufValueType.array, itemType: GgufValueType.int32, value });

function putSpecials(out: Map<string, GgufValue>, tokenizer: Tokenizer): void {
  const s = tokenizer.special;
  const keys: Array<[number | undefined, string]> = [
    [s.bos, 'bos_token_id'],
    [s.eos, 'eos_token_id'],
    [s.eot, 'eot_token_id'],
    [s.unk, 'unknown_token_id'],
    [s.pad, 'padding_token_id'],
    [s.sep, 'seperator_token_id'],
    [s.cls, 'cls_token_id'],
    [s.mask, 'mask_token_id'],
  ];
  for (const [id, key] of keys) if (id !== undefined) out.set(`tokenizer.ggml.${key}`, u32(id));
  out.set('tokenizer.ggml.add_bos_token', bool(tokenizer.addBos));
  out.set('tokenizer.ggml.add_eos_token', bool(tokenizer.addEos));
  if (tokenizer.chatTemplate !== undefined) out.set('tokenizer.chat_template', str(tokenizer.chatTemplate));
}

function vocabList(tokenizer: Tokenizer): string[] {
  const tokens: string[] = new Array(tokenizer.vocabSize);
  for (let id = 0; id < tokenizer.vocabSize; id++) tokens[id] = tokenizer.idToToken(id) ?? `[EMPTY_${id}]`;
  return tokens;
}

function tokenJsonModel(json: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const model = json.model;
  return typeof model === 'object' && model !== null ? (model as Record<string, unknown>) : {};
}

function jsonMergeStrings(json: Readonly<Record<string, unknown>>): string[] {
  const merges = tokenJsonModel(json).merges;
  if (!Array.isArray(merges)) return [];
  return merges.map((m) => (Array.isArray(m) ? `${m[0]} ${m[1]}` : String(m)));
}

/** The `tokenizer.ggml.pre` name llama.cpp needs for a tokenizer.json byte-level BPE. */
function preNameFromJson(json: Readonly<Record<string, unknown>>): string {
  const found: string[] = [];
  const visit = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    if (o.type === 'Split' && typeof o.pattern === 'object' && o.pattern !== null) {
      const regex = (o.pattern as Record<string, unknown>).Regex;
      if (typeof regex === 'string') found.push(regex);
    }
    if (o.type === 'ByteLevel' && o.use_regex !== false) found.push('gpt2');
    if (Array.isArray(o.pretokenizers)) o.pretokenizers.forEach(visit);
  };
  visit(json.pre_tokenizer);
  if (found.length === 1 && found[0] === 'gpt2') return 'gpt-2';
  if (found.length === 1) {
    const name = preNameForRegex(found[0]);
    if (name) return name;
  }
  throw new UnsupportedFeatureError(
    'this tokenizer.json pre-tokenizer has no llama.cpp equivalent (tokenizer.ggml.pre)',
    {
      field: 'pre_tokenizer',
      value: found,
    },
  );
}

/**
 * GGUF `tokenizer.ggml.*` metadata for a tokenizer, as convert_hf_to_gguf.py would write it, so llama.cpp
 * tokenizes identically: SentencePiece-style vocabularies as `llama`, byte-level BPE as `gpt2` (with merges and
 * `tokenizer.ggml.pre`), WordPiece as `bert` (with llama.cpp's `▁` word-start convention).
 */
export function tokenizerToGgufMetadata(tokenizer: Tokenizer): Map<string, GgufValue> {
  const out = new Map<string, GgufValue>();
  if (tokenizer instanceof SpmTokenizer) {
    const n = tokenizer.vocabSize;
    out.set('tokenizer.ggml.model', str('llama'));
    out.set('tokenizer.ggml.pre', str('default'));
    out.set('tokenizer.ggml.tokens', strArray(vocabList(tokenizer)));
    out.set('tokenizer.ggml.scores', f32Array(Array.from({ length: n }, (_, id) => tokenizer.score(id))));
    out.set('tokenizer.ggml.token_type', i32Array(Array.from({ length: n }, (_, id) => tokenizer.tokenType(id))));
    out.set('tokenizer.ggml.add_space_prefix', bool(tokenizer.addSpacePrefix));
    putSpecials(out, tokenizer);
    return out;
  }
  if (!(tokenizer instanceof PipelineTokenizer)) {
    throw new UnsupportedFeatureError(`cannot write a ${tokenizer.kind} tokenizer of this class to GGUF`, {
      field: 'tokenizer',
    });
  }
  const origin = tokenizer.origin;
  const tokens = vocabList(tokenizer);
  const n = tokens.length;
  const addedTypes = (): number[] => {
    const t = new Array<number>(n).fill(TokenType.normal);
    for (const a of tokenizer.addedTokens) t[a.id] = a.special ? TokenType.control : TokenType.userDefined;
    if (tokenizer.special.unk !== undefined) t[tokenizer.special.unk] = TokenType.unknown;
    return t;
  };
  if (origin.format === 'gguf-bpe') {
    out.set('tokenizer.ggml.model', str('gpt2'));
    out.set('tokenizer.ggml.pre', str(origin.pre));
    out.set('tokenizer.ggml.tokens', strArray(tokens));
    out.set('tokenizer.ggml.token_type', i32Array(Array.from(origin.tokenTypes)));
    out.set('tokenizer.ggml.merges', strArray(origin.merges.map(([a, b]) => `${a} ${b}`)));
  } else if (origin.format === 'gguf-wpm') {
    out.set('tokenizer.ggml.model', str('bert'));
    out.set('tokenizer.ggml.pre', str('default'));
    out.set('tokenizer.ggml.tokens', strArray(tokens));
    out.set('tokenizer.ggml.token_type', i32Array(Array.from(origin.tokenTypes)));
  } else if (tokenizer.kind === 'wordpiece') {
    const prefix = String(tokenJsonModel(origin.tokenizerJson).continuing_subword_prefix ?? '##');
    const phantom = tokens.map((t) =>
      t.startsWith('[') && t.endsWith(']') ? t : t.startsWith(prefix) ? t.slice(prefix.length) : SPACE_MARK + t,
    );
    out.set('tokenizer.ggml.model', str('bert'));
    out.set('tokenizer.ggml.pre', str('default'));
    out.set('tokenizer.ggml.tokens', strArray(phantom.map((t, id) => t || `[EMPTY_${id}]`)));
    out.set('tokenizer.ggml.token_type', i32Array(addedTypes()));
  } else if (tokenizer.kind === 'bpe') {
    out.set('tokenizer.ggml.model', str('gpt2'));
    out.set('tokenizer.ggml.pre', str(preNameFromJson(origin.tokenizerJson)));
    out.set('tokenizer.ggml.tokens', strArray(tokens));
    out.set('tokenizer.ggml.token_type', i32Array(addedTypes()));
    out.set('tokenizer.ggml.merges', strArray(jsonMergeStrings(origin.tokenizerJson)));
  } else {
    const model = tokenJsonModel(origin.tokenizerJson);
    if (model.type === 'Unigram') {
      throw new UnsupportedFeatureError('writing a Unigram tokenizer.json to GGUF is not supported', {
        field: 'tokenizer',
      });
    }
    // SentencePiece converted to BPE with byte fallback: back to scores, where a merged token scores -rank.
    const scores = new Array<number>(n).fill(0);
    const rankOf = new Map<string, number>();
    jsonMergeStrings(origin.tokenizerJson).forEach((m, rank) => {
      const space = m.indexOf(' ', 1);
      const merged = m.slice(0, space) + m.slice(space + 1);
      if (!rankOf.has(merged)) rankOf.set(merged, rank);
    });
    const types = addedTypes();
    tokens.forEach((t, id) => {
      const rank = rankOf.get(t);
      if (rank !== undefined) scores[id] = -rank;
      if (types[id] === TokenType.normal && parseByteToken(t) !== undefined) types[id] = TokenType.byte;
    });
    const json = origin.tokenizerJson;
    const prepends =
      JSON.stringify(json.normalizer ?? null).includes('"Prepend"') ||
      JSON.stringify(json.pre_tokenizer ?? null).includes('"Metaspace"');
    out.set('tokenizer.ggml.model', str('llama'));
    out.set('tokenizer.ggml.pre', str('default'));
    out.set('tokenizer.ggml.tokens', strArray(tokens));
    out.set('tokenizer.ggml.scores', f32Array(scores));
    out.set('tokenizer.ggml.token_type', i32Array(types));
    out.set('tokenizer.ggml.add_space_prefix', bool(prepends));
  }
  putSpecials(out, tokenizer);
  return out;
}
