import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { type BpeMerge, BpeModel, MAX_BPE_VOCAB } from '../tokenizer/bpe-model.js';
import { buildDecoder } from '../tokenizer/decoders.js';
import {
  asArray,
  asInt,
  asNumber,
  asObject,
  asString,
  child,
  fail,
  isObject,
  type JsonContext,
  type JsonObject,
  optBool,
  optInt,
  optString,
} from '../tokenizer/json-fields.js';
import { buildNormalizer } from '../tokenizer/normalizers.js';
import { type AddedToken, PipelineTokenizer, type WordModel } from '../tokenizer/pipeline-tokenizer.js';
import { buildPreTokenizer } from '../tokenizer/pre-tokenizers.js';
import type { SpecialTokens, TokenizerKind } from '../tokenizer/tokenizer.js';
import { UnigramModel } from '../tokenizer/unigram-model.js';
import { WordPieceModel } from '../tokenizer/wordpiece-model.js';

/** The most token ids a tokenizer.json may declare (guards allocation on corrupt files). */
export const MAX_TOKENIZER_VOCAB = 4_000_000;

export interface TokenizerJsonContents {
  /** Parsed `tokenizer.json`. */
  tokenizerJson: unknown;
  /** Parsed `tokenizer_config.json` (special-token names, add_bos_token/add_eos_token, chat_template). */
  tokenizerConfig?: unknown;
}

interface ParsedModel {
  model: WordModel;
  /** id -> token text from the model's vocabulary (first text of an id wins; ids without a token are holes). */
  vocab: string[];
  unkToken?: string;
  byteFallback: boolean;
  type: 'BPE' | 'WordPiece' | 'Unigram';
}

function vocabFromObject(value: unknown, ctx: JsonContext): Map<string, number> {
  const obj = asObject(value, ctx);
  const map = new Map<string, number>();
  for (const key in obj) {
    const id = obj[key];
    // Validate inline (this runs for every token); build the error context only on failure.
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_TOKENIZER_VOCAB) {
      asInt(id, child(ctx, key), 0, MAX_TOKENIZER_VOCAB - 1);
    }
    map.set(key, id as number);
  }
  return map;
}

/** Checks the merges list ("left right" strings or [left, right] pairs) and returns it as is (no copy). */
function parseMerges(value: unknown, ctx: JsonContext): ReadonlyArray<BpeMerge> {
  const list = asArray(value ?? [], ctx);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === 'string') {
      if (item.indexOf(' ', 1) < 0) fail(child(ctx, i), 'a merge must be "left right"', item);
    } else if (
      !(Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string')
    ) {
      fail(child(ctx, i), 'a merge must be "left right" or ["left", "right"]', item);
    }
  }
  return list as BpeMerge[];
}

/** id -> text (the first text of an id wins), without allocating per entry (Map.forEach, not entries()). */
function invert(vocab: Map<string, number>): string[] {
  let size = 0;
  vocab.forEach((id) => {
    if (id >= size) size = id + 1;
  });
  const byId: string[] = new Array(size);
  vocab.forEach((id, token) => {
    if (byId[id] === undefined) byId[id] = token;
  });
  return byId;
}

function parseModel(value: unknown, ctx: JsonContext): ParsedModel {
  const obj = asObject(value, ctx);
  const type = obj.type === undefined ? guessModelType(obj) : asString(obj.type, child(ctx, 'type'));
  switch (type) {
    case 'BPE': {
      const vocab = vocabFromObject(obj.vocab, child(ctx, 'vocab'));
      if (vocab.size > MAX_BPE_VOCAB)
        fail(child(ctx, 'vocab'), `holds ${vocab.size} tokens; at most ${MAX_BPE_VOCAB} are supported`);
      vocab.forEach((id) => {
        if (id >= MAX_BPE_VOCAB) fail(child(ctx, 'vocab'), `token id ${id} is out of range`, id);
      });
      const merges = parseMerges(obj.merges, child(ctx, 'merges'));
      const unkToken = optString(obj, 'unk_token', ctx);
      const byteFallback = optBool(obj, 'byte_fallback', ctx, false);
      const model = new BpeModel({
        vocab,
        merges,
        byteFallback,
        ignoreMerges: optBool(obj, 'ignore_merges', ctx, false),
        unkToken,
        fuseUnk: optBool(obj, 'fuse_unk', ctx, false),
        continuingSubwordPrefix: optString(obj, 'continuing_subword_prefix', ctx),
        endOfWordSuffix: optString(obj, 'end_of_word_suffix', ctx),
      });
      return { model, vocab: invert(vocab), unkToken, byteFallback, type };
    }
    case 'WordPiece': {
      const vocab = vocabFromObject(obj.vocab, child(ctx, 'vocab'));
      const prefix = optString(obj, 'continuing_subword_prefix', ctx) ?? '##';
      const unkToken = optString(obj, 'unk_token', ctx) ?? '[UNK]';
      const unk = vocab.get(unkToken);
      if (unk === undefined)
        fail(child(ctx, 'unk_token'), `unk_token "${unkToken}" is not in the vocabulary`, unkToken);
      const continuations = new Map<string, number>();
      vocab.forEach((id, token) => {
        if (prefix && token.startsWith(prefix)) continuations.set(token.slice(prefix.length), id);
      });
      const model = new WordPieceModel({
        starts: vocab,
        continuations,
        unk,
        maxInputCharsPerWord: optInt(obj, 'max_input_chars_per_word', ctx, 100, 1),
      });
      return { model, vocab: invert(vocab), unkToken, byteFallback: false, type };
    }
    case 'Unigram': {
      const list = asArray(obj.vocab, child(ctx, 'vocab'));
      if (list.length > MAX_TOKENIZER_VOCAB) fail(child(ctx, 'vocab'), `holds ${list.length} tokens; too many`);
      const pieces: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < list.length; i++) {
        const entryCtx = child(child(ctx, 'vocab'), i);
        const entry = asArray(list[i], entryCtx);
        pieces.push(asString(entry[0], child(entryCtx, 0)));
        scores.push(asNumber(entry[1], child(entryCtx, 1)));
      }
      const unkId =
        obj.unk_id === null || obj.unk_id === undefined
          ? undefined
          : asInt(obj.unk_id, child(ctx, 'unk_id'), 0, pieces.length - 1);
      const byteFallback = optBool(obj, 'byte_fallback', ctx, false);
      const model = new UnigramModel({ pieces, scores, unkId, byteFallback });
      return { model, vocab: pieces, unkToken: unkId === undefined ? undefined : pieces[unkId], byteFallback, type };
    }
    default:
      throw new UnsupportedFeatureError(`tokenizer model type "${type}" is not supported`, {
        file: ctx.file,
        field: ctx.path,
        value: type,
      });
  }
}

function guessModelType(obj: JsonObject): string {
  if (obj.merges !== undefined) return 'BPE';
  if (Array.isArray(obj.vocab)) return 'Unigram';
  return 'WordPiece';
}

function parseAddedTokens(value: unknown, ctx: JsonContext): AddedToken[] {
  if (value === undefined || value === null) return [];
  const list = asArray(value, ctx);
  return list.map((item, i) => {
    const c = child(ctx, i);
    const obj = asObject(item, c);
    const special = optBool(obj, 'special', c, false);
    return {
      id: asInt(obj.id, child(c, 'id'), 0, MAX_TOKENIZER_VOCAB - 1),
      text: asString(obj.content, child(c, 'content')),
      special,
      normalized: optBool(obj, 'normalized', c, !special),
      lstrip: optBool(obj, 'lstrip', c, false),
      rstrip: optBool(obj, 'rstrip', c, false),
      singleWord: optBool(obj, 'single_word', c, false),
    };
  });
}

/** Ids the post-processor adds before and after a single sequence. */
function parsePostProcessor(
  value: unknown,
  ctx: JsonContext,
  tokenId: (t: string) => number | undefined,
): { prefix: number[]; suffix: number[] } {
  const empty = { prefix: [], suffix: [] };
  if (value === null || value === undefined) return empty;
  const obj = asObject(value, ctx);
  const type = asString(obj.type, child(ctx, 'type'));
  const pairId = (v: unknown, c: JsonContext): number => {
    const pair = asArray(v, c);
    return asInt(pair[1], child(c, 1), 0, MAX_TOKENIZER_VOCAB - 1);
  };
  switch (type) {
    case 'TemplateProcessing': {
      const single = asArray(obj.single, child(ctx, 'single'));
      const specials =
        obj.special_tokens === undefined ? {} : asObject(obj.special_tokens, child(ctx, 'special_tokens'));
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seenSequence = false;
      single.forEach((piece, i) => {
        const c = child(child(ctx, 'single'), i);
        const p = asObject(piece, c);
        if (p.Sequence !== undefined) {
          seenSequence = true;
          return;
        }
        const special = asObject(p.SpecialToken, child(c, 'SpecialToken'));
        const name = asString(special.id, child(child(c, 'SpecialToken'), 'id'));
        const entry = specials[name];
        let ids: number[];
        if (isObject(entry) && Array.isArray(entry.ids)) {
          ids = entry.ids.map((id, k) =>
            asInt(id, child(child(child(ctx, 'special_tokens'), name), k), 0, MAX_TOKENIZER_VOCAB - 1),
          );
        } else {
          const id = tokenId(name);
          if (id === undefined) fail(c, `special token "${name}" is not defined`, name);
          ids = [id];
        }
        (seenSequence ? suffix : prefix).push(...ids);
      });
      return { prefix, suffix };
    }
    case 'BertProcessing':
    case 'RobertaProcessing':
      return { prefix: [pairId(obj.cls, child(ctx, 'cls'))], suffix: [pairId(obj.sep, child(ctx, 'sep'))] };
    case 'ByteLevel':
      return empty;
    case 'Sequence': {
      const result = { prefix: [] as number[], suffix: [] as number[] };
      asArray(obj.processors, child(ctx, 'processors')).forEach((p, i) => {
        const r = parsePostProcessor(p, child(child(ctx, 'processors'), i), tokenId);
        result.prefix.push(...r.prefix);
        result.suffix.push(...r.suffix);
      });
      return result;
    }
    default:
      throw new UnsupportedFeatureError(`post_processor type "${type}" is not supported`, {
        file: ctx.file,
        field: ctx.path,
        value: type,
      });
  }
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

const EOS_GUESSES = ['</s>', '<|end_of_text|>', '<eos>', '<|endoftext|>', '[SEP]'];
const EOT_GUESSES = ['<|eot_id|>', '<end_of_turn>', '<|im_end|>', '<|end|>', '<|eot|>'];
const BOS_GUESSES = ['<s>', '<|begin_of_text|>', '<bos>', '[CLS]'];

function chatTemplateOf(config: JsonObject): string | undefined {
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const entries = t.filter(isObject);
    const chosen = entries.find((e) => e.name === 'default') ?? entries[0];
    return chosen && typeof chosen.template === 'string' ? chosen.template : undefined;
  }
  return undefined;
}

/**
 * Builds a tokenizer from Hugging Face `tokenizer.json` contents (and optionally `tokenizer_config.json`).
 * Every field is validated; unknown component types are an UnsupportedFeatureError, malformed ones a
 * ModelFormatError naming the JSON path.
 */
export function parseTokenizerJson(contents: TokenizerJsonContents, file?: string): PipelineTokenizer {
  const ctx: JsonContext = { file, path: 'tokenizer.json' };
  const json = asObject(contents.tokenizerJson, ctx);
  const configCtx: JsonContext = { file, path: 'tokenizer_config.json' };
  const config =
    contents.tokenizerConfig === undefined || contents.tokenizerConfig === null
      ? {}
      : asObject(contents.tokenizerConfig, configCtx);
  const parsed = parseModel(json.model, child(ctx, 'model'));
  const addedTokens = parseAddedTokens(json.added_tokens, child(ctx, 'added_tokens'));

  const vocab = parsed.vocab;
  for (const t of addedTokens) vocab[t.id] = t.text;
  const size = vocab.length;

  const textToId = new Map<string, number>();
  for (let id = 0; id < size; id++)
    if (vocab[id] !== undefined && !textToId.has(vocab[id])) textToId.set(vocab[id], id);
  for (const t of addedTokens) textToId.set(t.text, t.id);
  const lookup = (name: unknown) => {
    const n = tokenName(name);
    return n === undefined ? undefined : textToId.get(n);
  };

  const post = parsePostProcessor(json.post_processor, child(ctx, 'post_processor'), (t) => textToId.get(t));
  const special: SpecialTokens = {};
  const guess = (names: string[]) => names.map((n) => textToId.get(n)).find((id) => id !== undefined);
  special.bos = lookup(config.bos_token) ?? (post.prefix.length > 0 ? post.prefix[0] : guess(BOS_GUESSES));
  special.eos = lookup(config.eos_token) ?? guess(EOS_GUESSES);
  special.unk = lookup(config.unk_token) ?? (parsed.unkToken === undefined ? undefined : textToId.get(parsed.unkToken));
  special.pad = lookup(config.pad_token);
  special.sep = lookup(config.sep_token);
  special.cls = lookup(config.cls_token);
  special.mask = lookup(config.mask_token);
  special.eot = guess(EOT_GUESSES);
  for (const key of Object.keys(special) as Array<keyof SpecialTokens>)
    if (special[key] === undefined) delete special[key];

  // tokenizer_config.json's add_bos_token / add_eos_token override the template (as transformers does).
  let prefix = post.prefix;
  let suffix = post.suffix;
  const addBos = config.add_bos_token;
  const addEos = config.add_eos_token;
  if (addBos === false && special.bos !== undefined) prefix = prefix.filter((id) => id !== special.bos);
  if (addBos === true && special.bos !== undefined && !prefix.includes(special.bos)) prefix = [special.bos, ...prefix];
  if (addEos === false && special.eos !== undefined) suffix = suffix.filter((id) => id !== special.eos);
  if (addEos === true && special.eos !== undefined && !suffix.includes(special.eos)) suffix = [...suffix, special.eos];

  let kind: TokenizerKind;
  if (parsed.type === 'WordPiece') kind = 'wordpiece';
  else if (parsed.type === 'Unigram' || parsed.byteFallback) kind = 'spm';
  else kind = 'bpe';

  return new PipelineTokenizer({
    kind,
    vocab,
    model: parsed.model,
    normalizer: buildNormalizer(json.normalizer, child(ctx, 'normalizer')),
    preTokenizer: buildPreTokenizer(json.pre_tokenizer, child(ctx, 'pre_tokenizer')),
    decoder: buildDecoder(json.decoder, child(ctx, 'decoder')),
    addedTokens,
    prefixIds: prefix,
    suffixIds: suffix,
    special,
    chatTemplate: chatTemplateOf(config),
    origin: { format: 'tokenizer.json', tokenizerJson: json, tokenizerConfig: config },
  });
}

/** Parses tokenizer.json text (bytes or string); invalid JSON is a ModelFormatError. */
export function parseJsonText(text: string | Uint8Array, file?: string, what = 'tokenizer.json'): unknown {
  let source: string;
  try {
    source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch (error) {
    throw new ModelFormatError(`${what} is not valid UTF-8`, { file, cause: error });
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new ModelFormatError(`${what} is not valid JSON: ${(error as Error).message}`, { file, cause: error });
  }
}
