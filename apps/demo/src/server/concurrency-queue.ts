import { AbortError } from '@slmkit/core';
import { HttpError } from './openai-error.js';

interface Waiter<T> {
  resolve: (slot: T) => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A fixed set of slots (one per concurrent generation, e.g. one KV-cache sequence each) handed out first come,
 * first served. Waiters beyond `maxWaiting` are refused with 503 at once; a waiter whose signal aborts leaves the
 * line.
 */
export class SlotQueue<T> {
  readonly #free: T[];
  readonly #waiting: Waiter<T>[] = [];
  readonly #maxWaiting: number;
  readonly #size: number;

  constructor(slots: readonly T[], maxWaiting: number) {
    this.#free = [...slots];
    this.#size = slots.length;
    this.#maxWaiting = maxWaiting;
  }

  /** Generations running now. */
  get active(): number {
    return this.#size - this.#free.length;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Every slot is taken and the waiting line is full: `acquire` would refuse. */
  get full(): boolean {
    return this.#free.length === 0 && this.#waiting.length >= this.#maxWaiting;
  }

  /**
   * Takes a free slot (`prefer` picks among free ones, e.g. the sequence sharing the longest prefix), or waits.
   */
  acquire(signal?: AbortSignal, prefer?: (free: readonly T[]) => number): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AbortError('the client went away while queued'));
    if (this.#free.length > 0) {
      const index = prefer ? Math.max(0, prefer(this.#free)) : this.#free.length - 1;
      return Promise.resolve(this.#free.splice(index, 1)[0]);
    }
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(
        new HttpError(503, `the server is busy: ${this.#waiting.length} requests are already waiting for this model`, {
          type: 'server_error',
          code: 'server_overloaded',
        }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const at = this.#waiting.indexOf(waiter);
          if (at >= 0) this.#waiting.splice(at, 1);
          reject(new AbortError('the client went away while queued'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiting.push(waiter);
    });
  }

  release(slot: T): void {
    const next = this.#waiting.shift();
    if (next) {
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve(slot);
    } else {
      this.#free.push(slot);
    }
  }

  /** Slots not in use (for disposal at shutdown). */
  drainFree(): T[] {
    return this.#free.splice(0);
  }
}
