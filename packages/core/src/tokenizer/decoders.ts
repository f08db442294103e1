import { UnsupportedFeatureError } from '../errors/index.js';
import { byteLevelCharToByte } from './byte-level.js';
import {
  asArray,
  asObject,
  asString,
  child,
  componentType,
  type JsonContext,
  optInt,
  optString,
} from './json-fields.js';
import { patternRegex } from './normalizers.js';
import { metaspaceOptions } from './pre-tokenizers.js';
import { parseByteToken } from './token-type.js';

/** Turns token strings back into text pieces (Hugging Face `decoder`); the result is joined. */
export type Decoder = (tokens: string[]) => string[];

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** ByteLevel: every token's characters back to bytes, decoded as UTF-8 (invalid sequences become U+FFFD). */
export function byteLevelDecode(tokens: string[]): string[] {
  const bytes: number[] = [];
  for (const token of tokens) {
    const start = bytes.length;
    let ok = true;
    for (const ch of token) {
      const b = byteLevelCharToByte(ch);
      if (b === undefined) {
        ok = false;
        break;
      }
      bytes.push(b);
    }
    if (!ok) {
      bytes.length = start;
      for (const b of utf8Encoder.encode(token)) bytes.push(b);
    }
  }
  return [utf8.decode(Uint8Array.from(bytes))];
}

/** ByteFallback: runs of `<0xXX>` tokens become the text they encode (U+FFFD per byte when not valid UTF-8). */
export function byteFallbackDecode(tokens: string[]): string[] {
  const out: string[] = [];
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    try {
      out.push(utf8Strict.decode(Uint8Array.from(pending)));
    } catch {
      for (let i = 0; i < pending.length; i++) out.push('\uFFFD');
    }
    pending = [];
  };
  for (const token of tokens) {
    const b = token.length === 6 ? parseByteToken(token) : undefined;
    if (b !== undefined) pending.push(b);
    else {
      flush();
      out.push(token);
    }
  }
  flush();
  return out;
}

const WORDPIECE_CLEANUP: Array<[RegExp, string]> = [
  [/ \./g, '.'],
  [/ \?/g, '?'],
  [/ !/g, '!'],
  [/ ,/g, ','],
  [/ ' /g, "'"],
  [/ n't/g, "n't"],
  [/ 'm/g, "'m"],
  [/ 's/g, "'s"],
  [/ 've/g, "'ve"],
  [/ 're/g, "'re"],
];

export function cleanupTokenizationSpaces(text: string): string {
  return WORDPIECE_CLEANUP.reduce((t, [re, s]) => t.replace(re, s), text);
}

/** Builds a decoder from a tokenizer.json `decoder` object (null: tokens are concatenated). */
export function buildDecoder(config: unknown, ctx: JsonContext): Decoder | undefined {
  if (config === null || config === undefined) return undefined;
  const obj = asObject(config, ctx);
  const type = componentType(obj, ctx);
  switch (type) {
    case 'Sequence': {
      const parts = asArray(obj.decoders, child(ctx, 'decoders'))
        .map((d, i) => buildDecoder(d, child(child(ctx, 'decoders'), i)))
        .filter((d): d is Decoder => d !== undefined);
      return (tokens) => parts.reduce((t, d) => d(t), tokens);
    }
    case 'ByteLevel':
      return byteLevelDecode;
    case 'ByteFallback':
      return byteFallbackDecode;
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Replace': {
      const regex = patternRegex(obj.pattern, child(ctx, 'pattern'));
      const content = asString(obj.content, child(ctx, 'content'));
      return (tokens) => tokens.map((t) => t.replace(regex, () => content));
    }
    case 'Strip': {
      const content = asString(obj.content, child(ctx, 'content'));
      const start = optInt(obj, 'start', ctx, 0);
      const stop = optInt(obj, 'stop', ctx, 0);
      return (tokens) =>
        tokens.map((token) => {
          const chars = Array.from(token);
          let s = 0;
          while (s < start && s < chars.length && chars[s] === content) s++;
          let e = chars.length;
          while (chars.length - e < stop && e > s && chars[e - 1] === content) e--;
          return chars.slice(s, e).join('');
        });
    }
    case 'Metaspace': {
      const { replacement, prependScheme } = metaspaceOptions(obj, ctx);
      return (tokens) =>
        tokens.map((token, i) => {
          const text = token.split(replacement).join(' ');
          return i === 0 && prependScheme !== 'never' && text.startsWith(' ') ? text.slice(1) : text;
        });
    }
    case 'WordPiece': {
      const prefix = optString(obj, 'prefix', ctx) ?? '##';
      const cleanup = obj.cleanup !== false;
      return (tokens) =>
        tokens.map((token, i) => {
          let t = token;
          if (i > 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
          return cleanup ? cleanupTokenizationSpaces(t) : t;
        });
    }
    case 'BPEDecoder': {
      const suffix = optString(obj, 'suffix', ctx) ?? '</w>';
      return (tokens) => tokens.map((t, i) => t.split(suffix).join(i === tokens.length - 1 ? '' : ' '));
    }
    default:
      throw new UnsupportedFeatureError(`decoder type "${type}" is not supported`, {
        file: ctx.file,
        field: ctx.path,
        value: type,
      });
  }
}
