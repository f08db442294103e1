import { UnsupportedFeatureError } from '../errors/index.js';
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
import { compileTokenizerRegex } from './regex-translate.js';

/** Rewrites text before pre-tokenization (Hugging Face `normalizer`). */
export type Normalizer = (text: string) => string;

const COMBINING_MARK = /\p{Mn}/gu;

export function isControlChar(cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  return /\p{Cc}|\p{Cf}|\p{Co}|\p{Cn}/u.test(String.fromCodePoint(cp));
}

export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export function stripAccents(text: string): string {
  return text.normalize('NFD').replace(COMBINING_MARK, '');
}

/** BERT's normaliser: drop control characters, whitespace to ' ', spaces around CJK, accents and case. */
export function bertNormalize(
  text: string,
  options: { cleanText: boolean; handleChineseChars: boolean; stripAccents: boolean; lowercase: boolean },
): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (options.cleanText) {
      if (cp === 0 || cp === 0xfffd || isControlChar(cp)) continue;
      if (/\s/u.test(ch)) {
        out += ' ';
        continue;
      }
    }
    if (options.handleChineseChars && isChineseChar(cp)) out += ` ${ch} `;
    else out += ch;
  }
  if (options.stripAccents) out = stripAccents(out);
  if (options.lowercase) out = out.toLowerCase();
  return out;
}

/** A `Replace`-style pattern: `{String: "x"}` or `{Regex: "..."}`. */
export function patternRegex(value: unknown, ctx: JsonContext): RegExp {
  const pattern = asObject(value, ctx);
  if (typeof pattern.String === 'string') return new RegExp(escapeForRegex(pattern.String), 'gu');
  if (typeof pattern.Regex === 'string') return compileTokenizerRegex(pattern.Regex, ctx.path);
  fail(ctx, 'expected {"String": ...} or {"Regex": ...}', value);
}

function escapeForRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Builds a normaliser from a tokenizer.json `normalizer` object (null: identity). */
export function buildNormalizer(config: unknown, ctx: JsonContext): Normalizer | undefined {
  if (config === null || config === undefined) return undefined;
  const obj: JsonObject = asObject(config, ctx);
  const type = componentType(obj, ctx);
  switch (type) {
    case 'Sequence': {
      const parts = asArray(obj.normalizers, child(ctx, 'normalizers'))
        .map((n, i) => buildNormalizer(n, child(child(ctx, 'normalizers'), i)))
        .filter((n): n is Normalizer => n !== undefined);
      return (text) => parts.reduce((t, n) => n(t), text);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return (text) => text.normalize(type);
    case 'Lowercase':
      return (text) => text.toLowerCase();
    case 'StripAccents':
      return stripAccents;
    case 'Strip': {
      const left = optBool(obj, 'strip_left', ctx, true);
      const right = optBool(obj, 'strip_right', ctx, true);
      return (text) => {
        let t = text;
        if (left) t = t.replace(/^\p{White_Space}+/u, '');
        if (right) t = t.replace(/\p{White_Space}+$/u, '');
        return t;
      };
    }
    case 'Replace': {
      const regex = patternRegex(obj.pattern, child(ctx, 'pattern'));
      const content = asString(obj.content, child(ctx, 'content'));
      return (text) => text.replace(regex, () => content);
    }
    case 'Prepend': {
      const prepend = asString(obj.prepend, child(ctx, 'prepend'));
      return (text) => (text.length > 0 ? prepend + text : text);
    }
    case 'BertNormalizer': {
      const lowercase = optBool(obj, 'lowercase', ctx, true);
      const options = {
        cleanText: optBool(obj, 'clean_text', ctx, true),
        handleChineseChars: optBool(obj, 'handle_chinese_chars', ctx, true),
        // HF: strip_accents null means "follow lowercase".
        stripAccents:
          obj.strip_accents === null || obj.strip_accents === undefined
            ? lowercase
            : optBool(obj, 'strip_accents', ctx, lowercase),
        lowercase,
      };
      return (text) => bertNormalize(text, options);
    }
    case 'Precompiled': {
      const map = optString(obj, 'precompiled_charsmap', ctx);
      if (!map) return undefined;
      throw new UnsupportedFeatureError('the Precompiled (SentencePiece charsmap) normalizer is not supported', {
        file: ctx.file,
        field: ctx.path,
      });
    }
    default:
      throw new UnsupportedFeatureError(`normalizer type "${type}" is not supported`, {
        file: ctx.file,
        field: ctx.path,
        value: type,
      });
  }
}
