import { ModelFormatError } from '../errors/index.js';

/**
 * Pattern escapes whose meaning differs between Oniguruma/Rust (which tokenizer.json and llama.cpp regexes are
 * written for) and JavaScript: JS `\s` includes U+FEFF and misses U+0085; `\d` must be Unicode digits.
 */
const OUTSIDE_CLASS: Record<string, string> = {
  s: '\\p{White_Space}',
  S: '\\P{White_Space}',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
};
const INSIDE_CLASS: Record<string, string> = {
  s: '\\p{White_Space}',
  S: '\\P{White_Space}',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
};

function caseExpand(ch: string, inClass: boolean): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower === upper || !/^[A-Za-z]$/.test(ch)) return ch;
  return inClass ? `${lower}${upper}` : `[${lower}${upper}]`;
}

/**
 * Translates a tokenizer regex (Oniguruma / Rust syntax) into a JavaScript `u`-mode RegExp source: inline
 * case-insensitive groups `(?i:...)` become explicit ASCII case classes, Unicode-aware `\s`/`\d`, and `\x{..}`.
 */
export function translateRegexSource(pattern: string): string {
  let out = '';
  let classDepth = 0;
  // A stack of group kinds: true for a (?i:...) group, false for any other group.
  const groups: boolean[] = [];
  let caseInsensitive = 0;
  let lastWasQuantifier = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    const afterQuantifier = lastWasQuantifier;
    lastWasQuantifier = false;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new Error('pattern ends with a lone backslash');
      if (next === 'x' && pattern[i + 2] === '{') {
        const close = pattern.indexOf('}', i + 3);
        if (close < 0) throw new Error('unterminated \\x{...}');
        out += `\\u{${pattern.slice(i + 3, close)}}`;
        i = close;
        continue;
      }
      if (next === 'p' || next === 'P') {
        const close = pattern[i + 2] === '{' ? pattern.indexOf('}', i + 3) : i + 2;
        if (close < 0) throw new Error('unterminated \\p{...}');
        out += pattern.slice(i, close + 1);
        i = close;
        continue;
      }
      const table = classDepth > 0 ? INSIDE_CLASS : OUTSIDE_CLASS;
      if (table[next] !== undefined) out += table[next];
      else if (/[A-Za-z0-9]/.test(next) || /[\^$\\.*+?()[\]{}|/-]/.test(next)) out += `\\${next}`;
      else out += next; // identity escape of a character JS `u` mode rejects (e.g. `\'`)
      i++;
      continue;
    }
    if (classDepth > 0) {
      if (ch === '[') {
        // Nested classes are rare in tokenizer regexes; treat a literal '[' inside a class.
        out += '\\[';
        continue;
      }
      if (ch === ']') {
        classDepth--;
        out += ']';
        continue;
      }
      out += caseInsensitive > 0 ? caseExpand(ch, true) : ch;
      continue;
    }
    if (ch === '[') {
      classDepth++;
      out += '[';
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '(') {
      if (pattern.startsWith('(?i:', i)) {
        groups.push(true);
        caseInsensitive++;
        out += '(?:';
        i += 3;
        continue;
      }
      if (pattern.startsWith('(?>', i)) {
        groups.push(false);
        out += '(?:';
        i += 2;
        continue;
      }
      groups.push(false);
      out += '(';
      continue;
    }
    if (ch === ')') {
      if (groups.pop()) caseInsensitive--;
      out += ')';
      continue;
    }
    if (ch === '+' && afterQuantifier) {
      // Possessive quantifier (`a++`): JS has none; the greedy form matches the same on tokenizer regexes.
      continue;
    }
    if (ch === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
      const close = pattern.indexOf('}', i);
      out += pattern.slice(i, close + 1);
      i = close;
      lastWasQuantifier = true;
      continue;
    }
    out += caseInsensitive > 0 ? caseExpand(ch, false) : ch;
    lastWasQuantifier = ch === '*' || ch === '+' || ch === '?';
  }
  return out;
}

const cache = new Map<string, RegExp>();

/** A global, Unicode-mode RegExp for a tokenizer pattern; a pattern JS cannot compile is a ModelFormatError. */
export function compileTokenizerRegex(pattern: string, field = 'pattern'): RegExp {
  const cached = cache.get(pattern);
  if (cached) return new RegExp(cached);
  let source: string;
  try {
    source = translateRegexSource(pattern);
    const regex = new RegExp(source, 'gu');
    if (cache.size > 256) cache.clear();
    cache.set(pattern, regex);
    return new RegExp(regex);
  } catch (error) {
    throw new ModelFormatError(
      `cannot compile the regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`,
      {
        field,
        value: pattern,
        cause: error,
      },
    );
  }
}

/** Escapes a literal string for use inside a RegExp. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
