type Immediate = (callback: () => void) => unknown;

const setImmediateFn = (globalThis as { setImmediate?: Immediate }).setImmediate;

/**
 * Lets timers, I/O and signal handlers run: a macrotask, not a microtask. Backends whose forward pass resolves
 * synchronously (pure TypeScript, wasm) would otherwise keep the event loop busy for a whole generation, and an abort
 * from a timer, a socket close or Ctrl-C would arrive only at the end.
 */
export function yieldToEventLoop(): Promise<void> {
  if (setImmediateFn) return new Promise((resolve) => setImmediateFn(resolve));
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(undefined);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Yields to the event loop when more than `intervalMs` passed since the last yield. */
export class CooperativeScheduler {
  readonly #intervalMs: number;
  #last = performance.now();

  constructor(intervalMs = 8) {
    this.#intervalMs = intervalMs;
  }

  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < this.#intervalMs) return;
    await yieldToEventLoop();
    this.#last = performance.now();
  }
}
