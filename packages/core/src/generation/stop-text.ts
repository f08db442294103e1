/**
 * Watches streamed text for stop strings that may span several tokens. Text that could still turn into a stop
 * string is held back; once a stop string appears, the text before it is released and the rest is dropped.
 */
export class StopTextMatcher {
  readonly #stops: readonly string[];
  #pending = '';
  #stopped = false;
  #matched: string | undefined;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The stop string that ended the text, once one has. */
  get matched(): string | undefined {
    return this.#matched;
  }

  /** Adds text; returns what can be emitted now. */
  push(text: string): string {
    if (this.#stopped) return '';
    if (this.#stops.length === 0) return text;
    this.#pending += text;
    let cut = -1;
    for (const stop of this.#stops) {
      const at = this.#pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        this.#matched = stop;
      }
    }
    if (cut >= 0) {
      this.#stopped = true;
      const out = this.#pending.slice(0, cut);
      this.#pending = '';
      return out;
    }
    const hold = this.#longestStopPrefixSuffix();
    const out = this.#pending.slice(0, this.#pending.length - hold);
    this.#pending = this.#pending.slice(this.#pending.length - hold);
    return out;
  }

  /** Releases held-back text at the end of generation. */
  flush(): string {
    const out = this.#stopped ? '' : this.#pending;
    this.#pending = '';
    return out;
  }

  #longestStopPrefixSuffix(): number {
    let best = 0;
    for (const stop of this.#stops) {
      const max = Math.min(stop.length - 1, this.#pending.length);
      for (let k = max; k > best; k--) {
        if (this.#pending.endsWith(stop.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
