/** A piece of input text: plain text to tokenize, or a special token recognised verbatim. */
export type TextFragment = { text: string; id?: undefined } | { id: number; text?: undefined };

/**
 * Splits text on occurrences of special-token strings (longest match first), so `<s>` or `<|eot_id|>` in the input
 * become their ids instead of being tokenized as characters.
 */
export class SpecialTokenSplitter {
  readonly #tokens: Array<{ text: string; id: number }>;

  constructor(tokens: Iterable<{ text: string; id: number }>) {
    this.#tokens = [...tokens].filter((t) => t.text.length > 0).sort((a, b) => b.text.length - a.text.length);
  }

  get isEmpty(): boolean {
    return this.#tokens.length === 0;
  }

  split(text: string): TextFragment[] {
    if (this.#tokens.length === 0) return [{ text }];
    const fragments: TextFragment[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const match = this.#tokens.find((t) => text.startsWith(t.text, i));
      if (match) {
        if (i > start) fragments.push({ text: text.slice(start, i) });
        fragments.push({ id: match.id });
        i += match.text.length;
        start = i;
      } else {
        i++;
      }
    }
    if (start < text.length) fragments.push({ text: text.slice(start) });
    return fragments;
  }
}
