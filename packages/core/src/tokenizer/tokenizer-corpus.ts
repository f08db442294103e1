/**
 * A deterministic corpus of varied text lines for tokenizer tests and benchmarks: several scripts, emoji (with ZWJ
 * sequences, flags and skin tones), CJK, code, whitespace runs, numbers, contractions and punctuation runs.
 */

const WORDS = [
  'the',
  'quick',
  'brown',
  'fox',
  'jumps',
  'over',
  'lazy',
  'dog',
  'Hello',
  'world',
  'tokenizer',
  'Transformer',
  'I',
  "don't",
  "it's",
  "We'Ve",
  "they'RE",
  "you'll",
  "I'd",
  "she'S",
  'naïve',
  'café',
  'Führer',
  'résumé',
  'coöperate',
  'straße',
  'İstanbul',
  'ΑΒΓ',
  'αβγδ',
  'Привет',
  'мир',
  'Български',
  'مرحبا',
  'بالعالم',
  'שלום',
  'नमस्ते',
  'दुनिया',
  'สวัสดี',
  'ကမ္ဘာ',
  'Cửa',
  'Việt',
  'Ελληνικά',
  'ქართული',
  'հայերեն',
  'ßẞ',
  'ǅungla',
  'ﬁne',
  'Ｆｕｌｌｗｉｄｔｈ',
];
const CJK = [
  '我想在apple工作',
  '天～',
  '日本語のテキスト',
  'カタカナ',
  'ひらがな',
  '한국어 문장',
  '中文分词测试',
  '龥',
  '𠀀𠀁',
  '〇一二三',
];
const EMOJI = ['🦙', '🚀', '😁', '😶‍🌫️', '👩‍👩‍👧‍👦', '🇯🇵', '👍🏽', '✅', '❤️', '🧑🏿‍🚀', '🏳️‍🌈', '1️⃣', '©', '™'];
const CODE = [
  'function f(x) { return x * 2; }',
  'for (let i = 0; i < n; i++) {\n\tsum += a[i];\n}',
  'def main():\n    print("hi")\n',
  'SELECT * FROM users WHERE id = 42;',
  '<div class="a">&nbsp;</div>',
  'x<<=3; y>>>=1; z ??= w?.v ?? 0;',
  '#include <stdio.h>',
  'const re = /^[a-z]+$/u;',
  '{"key": [1, 2.5, -3e10, null, true]}',
  'fn main() -> Result<(), Box<dyn Error>> {}',
  '$ ls -la ~/src | grep "\\.ts$"',
];
const SPACES = [
  ' ',
  '  ',
  '   ',
  '\t',
  '\n',
  '\n\n',
  '\r\n',
  ' \n ',
  '\u00a0',
  '\u3000',
  '\u2009',
  '\t\t',
  '    ',
  '\n\n\n',
];
const PUNCT = [
  '.',
  ',',
  '!',
  '?',
  '...',
  '!!!',
  '?!',
  '—',
  '–',
  '"',
  "'",
  '``',
  "''''",
  '(',
  ')',
  '[',
  ']',
  '------',
  '=======',
  '…',
  '¿',
  '¡',
  '«',
  '»',
  '、',
  '。',
];
const NUMBERS = [
  '3',
  '33',
  '333',
  '3333',
  '33333',
  '1314151',
  '3.14159',
  '3..3',
  '1,000,000',
  '2024-06-01',
  '0x1F',
  '½',
  '²',
  '٣',
  '१२३',
  '١٢٣',
];

/** A small seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` lines of mixed text, the same for the same seed. */
export function tokenizerTestCorpus(count = 2000, seed = 1234): string[] {
  const random = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    const length = 1 + Math.floor(random() * 14);
    const mode = i % 7;
    for (let k = 0; k < length; k++) {
      const r = random();
      if (mode === 0 && r < 0.5) parts.push(pick(CODE));
      else if (mode === 1 && r < 0.5) parts.push(pick(CJK));
      else if (mode === 2 && r < 0.5) parts.push(pick(EMOJI));
      else if (mode === 3 && r < 0.5) parts.push(pick(NUMBERS));
      else if (r < 0.45) parts.push(pick(WORDS));
      else if (r < 0.55) parts.push(pick(PUNCT));
      else if (r < 0.62) parts.push(pick(NUMBERS));
      else if (r < 0.68) parts.push(pick(EMOJI));
      else if (r < 0.74) parts.push(pick(CJK));
      else if (r < 0.78) parts.push(pick(CODE));
      else parts.push(pick(SPACES));
      if (random() < 0.7) parts.push(random() < 0.85 ? ' ' : pick(SPACES));
    }
    let line = parts.join('');
    if (i % 11 === 0) line = ` ${line}`;
    if (i % 13 === 0) line = `${line}  `;
    if (i % 17 === 0) line = line.toUpperCase();
    lines.push(line);
  }
  // A few edge cases every run includes.
  lines.push(
    '',
    ' ',
    '  ',
    '\n',
    ' \n\n ',
    'a',
    '\u00ad',
    '\ufeffBOM',
    '\u0085NEL',
    'x\u200bzero\u200dwidth',
    '🦙🦙🦙',
    '   Hello\n    Hello',
  );
  return lines;
}
