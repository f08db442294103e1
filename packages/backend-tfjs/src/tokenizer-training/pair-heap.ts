/**
 * A max-heap of symbol pairs keyed by count, ties broken by the smaller pair key (so training is deterministic).
 * Entries may be stale: the trainer compares a popped count with the live count and re-pushes when it dropped.
 */
export class PairHeap {
  #counts: number[] = [];
  #keys: number[] = [];

  get size(): number {
    return this.#keys.length;
  }

  #before(i: number, j: number): boolean {
    const ci = this.#counts[i];
    const cj = this.#counts[j];
    return ci > cj || (ci === cj && this.#keys[i] < this.#keys[j]);
  }

  #swap(i: number, j: number): void {
    const c = this.#counts[i];
    this.#counts[i] = this.#counts[j];
    this.#counts[j] = c;
    const k = this.#keys[i];
    this.#keys[i] = this.#keys[j];
    this.#keys[j] = k;
  }

  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    let i = this.#keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top entry and returns it, or undefined when empty. */
  pop(): { count: number; key: number } | undefined {
    const n = this.#keys.length;
    if (n === 0) return undefined;
    const top = { count: this.#counts[0], key: this.#keys[0] };
    const lastCount = this.#counts.pop() as number;
    const lastKey = this.#keys.pop() as number;
    if (n > 1) {
      this.#counts[0] = lastCount;
      this.#keys[0] = lastKey;
      let i = 0;
      const size = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < size && this.#before(l, m)) m = l;
        if (r < size && this.#before(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
