/**
 * onnxruntime-node returns every output of every run in a fresh ArrayBuffer (logits and new keys/values: about
 * 200 KB per decode step of a 134M model). V8 collects young ArrayBuffers only once their bytes reach twice the
 * young generation's size (32 MB by default), so a decode loop carries tens of MB of dead buffers. This counts the
 * bytes handed over and asks for a minor GC (a scavenge, well under a millisecond here) every `limitBytes`.
 */
export class OutputGarbage {
  readonly limitBytes: number;
  readonly #collect: () => void;
  #bytes = 0;

  constructor(limitBytes: number, collect: () => void) {
    this.limitBytes = limitBytes;
    this.#collect = collect;
  }

  /** Counts `bytes` of outputs that become garbage by the next step; collects when the limit is reached. */
  add(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes < this.limitBytes) return;
    this.#bytes = 0;
    this.#collect();
  }
}
