/**
 * GPT-2's reversible byte <-> character map: printable bytes map to themselves, the others to U+0100.. so every
 * byte sequence becomes a string of visible characters (a space becomes `Ġ`, a newline `Ċ`).
 */
const BYTE_TO_CHAR: string[] = new Array(256);
const CHAR_TO_BYTE = new Map<string, number>();
{
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const ch = printable ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
    BYTE_TO_CHAR[b] = ch;
    CHAR_TO_BYTE.set(ch, b);
  }
}

const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of `text`, each written as its byte-level character. */
export function toByteLevel(text: string): string {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return rebuild(text);
  let out = '';
  for (let i = 0; i < text.length; i++) out += BYTE_TO_CHAR[text.charCodeAt(i)];
  return out;
}

function rebuild(text: string): string {
  let out = '';
  for (const b of utf8Encoder.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

/** The byte a byte-level character stands for, or undefined for any other character. */
export function byteLevelCharToByte(ch: string): number | undefined {
  return CHAR_TO_BYTE.get(ch);
}

/** The bytes a byte-level string stands for; characters outside the map are kept as their UTF-8. */
export function fromByteLevel(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) out.push(b);
    else for (const x of utf8Encoder.encode(ch)) out.push(x);
  }
  return Uint8Array.from(out);
}

export function byteToByteLevelChar(byte: number): string {
  return BYTE_TO_CHAR[byte];
}
