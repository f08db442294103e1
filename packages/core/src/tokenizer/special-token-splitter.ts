/** A piece of input text: plain text to tokenize, or a special token recognised verbatim. */
export type TextFragment = { text: string; id?: undefined } | { id: number; text?: undefined };

/** A token matched verbatim in the input (Hugging Face `added_tokens`, llama.cpp control/user-defined tokens). */
export interface SplitterToken {
  text: string;
  id: number;
  /** Swallow whitespace to the left of a match. */
  lstrip?: boolean;
  /** Swallow whitespace to the right of a match. */
  rstrip?: boolean;
  /** Only match when not inside a word. */
  singleWord?: boolean;
}

interface TrieNode {
  token?: SplitterToken;
  children?: Map<number, TrieNode>;
}

const WHITESPACE = /\p{White_Space}/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * Splits text on occurrences of special-token strings (leftmost, then longest match), so `<s>` or `<|eot_id|>` in
 * the input become their ids instead of being tokenized as characters. Uses a character trie: cost is linear in the
 * text times the longest token, independent of how many tokens there are.
 */
export class SpecialTokenSplitter {
  readonly #root: TrieNode = {};
  #count = 0;

  constructor(tokens: Iterable<SplitterToken>) {
    for (const token of tokens) {
      if (token.text.length === 0) continue;
      let node = this.#root;
      for (let i = 0; i < token.text.length; i++) {
        const c = token.text.charCodeAt(i);
        node.children ??= new Map();
        let next = node.children.get(c);
        if (!next) {
          next = {};
          node.children.set(c, next);
        }
        node = next;
      }
      if (!node.token) {
        node.token = token;
        this.#count++;
      }
    }
  }

  get isEmpty(): boolean {
    return this.#count === 0;
  }

  /** The longest token matching at `i` (respecting single-word rules), or undefined. */
  #matchAt(text: string, i: number): SplitterToken | undefined {
    let node: TrieNode | undefined = this.#root;
    let best: SplitterToken | undefined;
    for (let j = i; j < text.length && node?.children; j++) {
      node = node.children.get(text.charCodeAt(j));
      if (!node) break;
      const t = node.token;
      if (t && (!t.singleWord || this.#isWordBoundary(text, i, j + 1))) best = t;
    }
    return best;
  }

  #isWordBoundary(text: string, start: number, end: number): boolean {
    const before = start > 0 ? text[start - 1] : '';
    const after = end < text.length ? text[end] : '';
    return !(before && WORD_CHAR.test(before)) && !(after && WORD_CHAR.test(after));
  }

  split(text: string): TextFragment[] {
    if (this.#count === 0) return [{ text }];
    const fragments: TextFragment[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const match = this.#matchAt(text, i);
      if (!match) {
        i++;
        continue;
      }
      let textEnd = i;
      if (match.lstrip) while (textEnd > start && WHITESPACE.test(text[textEnd - 1])) textEnd--;
      if (textEnd > start) fragments.push({ text: text.slice(start, textEnd) });
      fragments.push({ id: match.id });
      i += match.text.length;
      if (match.rstrip) while (i < text.length && WHITESPACE.test(text[i])) i++;
      start = i;
    }
    if (start < text.length) fragments.push({ text: text.slice(start) });
    return fragments;
  }
}
