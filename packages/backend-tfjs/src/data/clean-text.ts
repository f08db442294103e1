/** Text cleaning: Unicode NFC, markup removal, control characters, whitespace. Pure functions, no I/O. */

export interface CleanOptions {
  /** Normalise to Unicode NFC. Default: true. */
  nfc?: boolean;
  /** Remove HTML/XML tags, comments, `<script>`/`<style>` bodies, and decode common entities. Default: true. */
  stripMarkup?: boolean;
  /** Collapse runs of spaces/tabs, trim lines, keep at most one blank line. Default: true. */
  normalizeWhitespace?: boolean;
}

const SCRIPT_OR_STYLE = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENT = /<!--[\s\S]*?-->/g;
const TAG = /<\/?[a-zA-Z][\w:-]*(?:\s[^<>]*)?\/?>/g;
const BLOCK_TAG = /<\/?(?:p|div|br|li|ul|ol|h[1-6]|tr|table|section|article|blockquote|pre|hr)\b[^<>]*\/?>/gi;
/** C0/C1 controls except tab and newline, plus zero-width characters and the BOM. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200D\u2060\uFEFF]/g;
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  mdash: '\u2014',
  ndash: '\u2013',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201C',
  rdquo: '\u201D',
  copy: '\u00A9',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (match, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : match;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? match;
  });
}

/** Removes markup: block-level tags become line breaks, other tags vanish, entities are decoded. */
export function stripMarkup(text: string): string {
  if (!text.includes('<') && !text.includes('&')) return text;
  return decodeEntities(
    text.replace(SCRIPT_OR_STYLE, ' ').replace(COMMENT, ' ').replace(BLOCK_TAG, '\n').replace(TAG, ''),
  );
}

export function normalizeWhitespace(text: string): string {
  return text
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Cleans one document. Line breaks become `\n`; control characters are removed. */
export function cleanText(text: string, options: CleanOptions = {}): string {
  let out = text.replace(/\r\n?/g, '\n');
  if (options.nfc ?? true) out = out.normalize('NFC');
  if (options.stripMarkup ?? true) out = stripMarkup(out);
  out = out.replace(CONTROL, '');
  if (options.normalizeWhitespace ?? true) out = normalizeWhitespace(out);
  return out;
}
