import { UnsupportedFeatureError } from '../errors/index.js';
import { toByteLevel } from './byte-level.js';
import {
  asArray,
  asObject,
  asString,
  child,
  componentType,
  fail,
  type JsonContext,
  type JsonObject,
  optBool,
  optString,
} from './json-fields.js';
import { patternRegex } from './normalizers.js';
import { compileTokenizerRegex } from './regex-translate.js';

/** Splits text into the pieces the model tokenizes separately (Hugging Face `pre_tokenizer`). */
export interface PreTokenizer {
  /** `first`: the pieces start at the beginning of the input (not after an added token). */
  split(pieces: string[], first: boolean): string[];
}

export type SplitBehavior = 'removed' | 'isolated' | 'merged_with_previous' | 'merged_with_next' | 'contiguous';

/** GPT-2's pre-tokenizer pattern (also ByteLevel's `use_regex`). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * Splits `text` at matches of `regex` (global). Spans alternate between gaps and matches as `behavior` says,
 * following the Hugging Face `Split` semantics.
 */
export function splitWithBehavior(text: string, regex: RegExp, behavior: SplitBehavior, invert = false): string[] {
  const spans: Array<[string, boolean]> = [];
  let last = 0;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length === 0) {
      regex.lastIndex++;
      continue;
    }
    if (m.index > last) spans.push([text.slice(last, m.index), invert]);
    spans.push([m[0], !invert]);
    last = m.index + m[0].length;
  }
  if (last < text.length) spans.push([text.slice(last), invert]);
  const out: string[] = [];
  switch (behavior) {
    case 'removed':
      for (const [s, isMatch] of spans) if (!isMatch) out.push(s);
      return out;
    case 'isolated':
      for (const [s] of spans) out.push(s);
      return out;
    case 'merged_with_previous': {
      let previousMatch = false;
      for (const [s, isMatch] of spans) {
        if (isMatch && !previousMatch && out.length > 0) out[out.length - 1] += s;
        else out.push(s);
        previousMatch = isMatch;
      }
      return out;
    }
    case 'merged_with_next': {
      let previousMatch = false;
      for (let i = spans.length - 1; i >= 0; i--) {
        const [s, isMatch] = spans[i];
        if (isMatch && !previousMatch && out.length > 0) out[out.length - 1] = s + out[out.length - 1];
        else out.push(s);
        previousMatch = isMatch;
      }
      return out.reverse();
    }
    case 'contiguous': {
      let previousMatch = false;
      for (const [s, isMatch] of spans) {
        if (isMatch && previousMatch && out.length > 0) out[out.length - 1] += s;
        else out.push(s);
        previousMatch = isMatch;
      }
      return out;
    }
  }
}

function eachPiece(fn: (piece: string, index: number) => string[]): (pieces: string[]) => string[] {
  return (pieces) => {
    const out: string[] = [];
    for (let i = 0; i < pieces.length; i++) for (const p of fn(pieces[i], i)) if (p.length > 0) out.push(p);
    return out;
  };
}

/** Splits with each regex in turn, keeping matches and gaps (llama.cpp's `unicode_regex_split`). */
export function regexSequencePreTokenizer(patterns: readonly string[], byteLevel: boolean): PreTokenizer {
  const regexes = patterns.map((p) => compileTokenizerRegex(p));
  return {
    split(pieces) {
      let current = pieces;
      for (const regex of regexes) current = eachPiece((p) => splitWithBehavior(p, regex, 'isolated'))(current);
      return byteLevel ? current.map(toByteLevel) : current;
    },
  };
}

const PUNCTUATION = /[\p{P}!-/:-@[-`{-~]/u;
export function isBertPunctuation(ch: string): boolean {
  return PUNCTUATION.test(ch);
}

function parseBehavior(value: unknown, ctx: JsonContext): SplitBehavior {
  const text = asString(value, ctx);
  const map: Record<string, SplitBehavior> = {
    Removed: 'removed',
    Isolated: 'isolated',
    MergedWithPrevious: 'merged_with_previous',
    MergedWithNext: 'merged_with_next',
    Contiguous: 'contiguous',
  };
  const behavior = map[text];
  if (!behavior) fail(ctx, `unknown split behavior "${text}"`, text);
  return behavior;
}

function prependSchemeOf(obj: JsonObject, ctx: JsonContext): 'always' | 'first' | 'never' {
  const scheme = optString(obj, 'prepend_scheme', ctx);
  if (scheme === undefined) return optBool(obj, 'add_prefix_space', ctx, true) ? 'always' : 'never';
  if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never')
    fail(child(ctx, 'prepend_scheme'), `unknown prepend_scheme "${scheme}"`, scheme);
  return scheme;
}

/** Metaspace settings shared by the pre-tokenizer and the decoder. */
export function metaspaceOptions(
  obj: JsonObject,
  ctx: JsonContext,
): { replacement: string; prependScheme: 'always' | 'first' | 'never'; split: boolean } {
  const replacement = optString(obj, 'replacement', ctx) ?? '\u2581';
  return { replacement, prependScheme: prependSchemeOf(obj, ctx), split: optBool(obj, 'split', ctx, true) };
}

/** Builds a pre-tokenizer from a tokenizer.json `pre_tokenizer` object (null: the whole text is one piece). */
export function buildPreTokenizer(config: unknown, ctx: JsonContext): PreTokenizer | undefined {
  if (config === null || config === undefined) return undefined;
  const obj = asObject(config, ctx);
  const type = componentType(obj, ctx);
  switch (type) {
    case 'Sequence': {
      const list = asArray(obj.pretokenizers, child(ctx, 'pretokenizers'));
      const parts = list
        .map((p, i) => buildPreTokenizer(p, child(child(ctx, 'pretokenizers'), i)))
        .filter((p): p is PreTokenizer => p !== undefined);
      return { split: (pieces, first) => parts.reduce((ps, p) => p.split(ps, first), pieces) };
    }
    case 'Split': {
      const regex = patternRegex(obj.pattern, child(ctx, 'pattern'));
      const behavior = parseBehavior(obj.behavior, child(ctx, 'behavior'));
      const invert = optBool(obj, 'invert', ctx, false);
      return { split: eachPiece((p) => splitWithBehavior(p, regex, behavior, invert)) };
    }
    case 'ByteLevel': {
      const addPrefixSpace = optBool(obj, 'add_prefix_space', ctx, true);
      const useRegex = optBool(obj, 'use_regex', ctx, true);
      const regex = compileTokenizerRegex(GPT2_PATTERN);
      return {
        split: eachPiece((p) => {
          const text = addPrefixSpace && !p.startsWith(' ') ? ` ${p}` : p;
          const parts = useRegex ? splitWithBehavior(text, regex, 'isolated') : [text];
          return parts.map(toByteLevel);
        }),
      };
    }
    case 'Metaspace': {
      const { replacement, prependScheme, split } = metaspaceOptions(obj, ctx);
      const spaceRegex = / /g;
      const replacementRegex = new RegExp(replacement.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), 'gu');
      return {
        split(pieces, first) {
          const out: string[] = [];
          for (let i = 0; i < pieces.length; i++) {
            let p = pieces[i].replace(spaceRegex, replacement);
            const prepend = prependScheme === 'always' || (prependScheme === 'first' && first && i === 0);
            if (prepend && !p.startsWith(replacement)) p = replacement + p;
            if (split) for (const s of splitWithBehavior(p, replacementRegex, 'merged_with_next')) out.push(s);
            else out.push(p);
          }
          return out.filter((s) => s.length > 0);
        },
      };
    }
    case 'Whitespace': {
      const regex = /\p{L}[\p{L}\p{M}\p{N}_]*|[\p{M}\p{N}_][\p{L}\p{M}\p{N}_]*|[^\p{L}\p{M}\p{N}_\p{White_Space}]+/gu;
      return { split: eachPiece((p) => p.match(regex) ?? []) };
    }
    case 'WhitespaceSplit':
      return { split: eachPiece((p) => p.split(/\p{White_Space}+/u)) };
    case 'BertPreTokenizer':
      return {
        split: eachPiece((p) => {
          const out: string[] = [];
          for (const word of p.split(/\p{White_Space}+/u)) {
            let current = '';
            for (const ch of word) {
              if (isBertPunctuation(ch)) {
                if (current) out.push(current);
                out.push(ch);
                current = '';
              } else current += ch;
            }
            if (current) out.push(current);
          }
          return out;
        }),
      };
    case 'Punctuation': {
      const behavior = obj.behavior === undefined ? 'isolated' : parseBehavior(obj.behavior, child(ctx, 'behavior'));
      const regex = /[\p{P}!-/:-@[-`{-~]/gu;
      return { split: eachPiece((p) => splitWithBehavior(p, regex, behavior)) };
    }
    case 'Digits': {
      const individual = optBool(obj, 'individual_digits', ctx, false);
      const regex = individual ? /\p{N}/gu : /\p{N}+/gu;
      return { split: eachPiece((p) => splitWithBehavior(p, regex, 'isolated')) };
    }
    default:
      throw new UnsupportedFeatureError(`pre_tokenizer type "${type}" is not supported`, {
        file: ctx.file,
        field: ctx.path,
        value: type,
      });
  }
}
