export interface WordPieceModelOptions {
  /** Pieces that may start a word (text without any marker) -> id. */
  starts: ReadonlyMap<string, number>;
  /** Pieces that continue a word (text without the `##` marker) -> id. */
  continuations: ReadonlyMap<string, number>;
  unk: number;
  /** Words longer than this (in characters) become [UNK]. Default 100 (Hugging Face); llama.cpp has no limit. */
  maxInputCharsPerWord?: number;
}

/**
 * Greedy longest-match-first WordPiece (BERT): the first piece of a word comes from `starts`, the rest from
 * `continuations`; a word that cannot be covered entirely becomes [UNK].
 */
export class WordPieceModel {
  readonly #starts: ReadonlyMap<string, number>;
  readonly #continuations: ReadonlyMap<string, number>;
  readonly #unk: number;
  readonly #maxChars: number;
  readonly #maxPieceLength: number;

  constructor(options: WordPieceModelOptions) {
    this.#starts = options.starts;
    this.#continuations = options.continuations;
    this.#unk = options.unk;
    this.#maxChars = options.maxInputCharsPerWord ?? 100;
    let longest = 1;
    for (const k of options.starts.keys()) longest = Math.max(longest, k.length);
    for (const k of options.continuations.keys()) longest = Math.max(longest, k.length);
    this.#maxPieceLength = longest;
  }

  tokenize(word: string, out: number[]): void {
    if (word.length === 0) return;
    if (Array.from(word).length > this.#maxChars) {
      out.push(this.#unk);
      return;
    }
    const ids: number[] = [];
    let start = 0;
    while (start < word.length) {
      const table = start === 0 ? this.#starts : this.#continuations;
      let end = Math.min(word.length, start + this.#maxPieceLength);
      let found: number | undefined;
      while (end > start) {
        // Never cut a surrogate pair.
        const code = word.charCodeAt(end - 1);
        if (code >= 0xd800 && code <= 0xdbff && end < word.length) {
          end--;
          continue;
        }
        found = table.get(word.slice(start, end));
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.push(this.#unk);
        return;
      }
      ids.push(found);
      start = end;
    }
    for (const id of ids) out.push(id);
  }
}
