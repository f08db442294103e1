/** Token types as llama.cpp and SentencePiece number them (GGUF `tokenizer.ggml.token_type`). */
export const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** The byte of a `<0xXX>` token, or undefined for any other text. */
export function parseByteToken(piece: string): number | undefined {
  const match = BYTE_TOKEN.exec(piece);
  return match ? Number.parseInt(match[1], 16) : undefined;
}

export function byteTokenText(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}
