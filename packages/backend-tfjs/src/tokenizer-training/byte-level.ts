/**
 * GPT-2's ByteLevel scheme: every byte maps to one printable unicode character, and text is first split into
 * pre-tokens by GPT-2's regular expression (as the Hugging Face `ByteLevel` pre-tokenizer with `use_regex: true`).
 */

/** GPT-2's pre-tokenization pattern (contractions, letters, numbers, other symbols, whitespace). */
export const GPT2_PRETOKENIZE_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

let byteToCharTable: string[] | undefined;

/** The 256 characters that stand for bytes 0..255, in byte order (GPT-2's `bytes_to_unicode`). */
export function byteToUnicodeTable(): readonly string[] {
  if (byteToCharTable) return byteToCharTable;
  const table: string[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (printable(b)) table[b] = String.fromCharCode(b);
    else table[b] = String.fromCharCode(256 + next++);
  }
  byteToCharTable = table;
  return table;
}

/** Splits text into GPT-2 pre-tokens. */
export function gpt2PreTokenize(text: string): string[] {
  return text.match(GPT2_PRETOKENIZE_PATTERN) ?? [];
}
