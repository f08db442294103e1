import { describe, expect, it } from 'vitest';
import { SlotQueue } from './concurrency-queue.js';
import { HttpError } from './openai-error.js';

describe('SlotQueue', () => {
  it('hands out free slots, then queues first come first served', async () => {
    const q = new SlotQueue(['a', 'b'], 10);
    const a = await q.acquire();
    const b = await q.acquire();
    expect(new Set([a, b])).toEqual(new Set(['a', 'b']));
    expect(q.active).toBe(2);
    const order: string[] = [];
    const w1 = q.acquire().then((s) => order.push(`1:${s}`));
    const w2 = q.acquire().then((s) => order.push(`2:${s}`));
    expect(q.waiting).toBe(2);
    q.release(a);
    q.release(b);
    await Promise.all([w1, w2]);
    expect(order).toEqual([`1:${a}`, `2:${b}`]);
  });

  it('lets `prefer` pick among free slots', async () => {
    const q = new SlotQueue(['x', 'y', 'z'], 0);
    expect(await q.acquire(undefined, (free) => free.indexOf('y'))).toBe('y');
  });

  it('refuses with 503 when the waiting line is full', async () => {
    const q = new SlotQueue(['only'], 1);
    await q.acquire();
    const waiting = q.acquire();
    expect(q.full).toBe(true);
    await expect(q.acquire()).rejects.toSatisfy((e: unknown) => e instanceof HttpError && e.status === 503);
    q.release('only');
    expect(await waiting).toBe('only');
  });

  it('a waiter whose signal aborts leaves the line and the slot goes to the next one', async () => {
    const q = new SlotQueue(['s'], 5);
    await q.acquire();
    const controller = new AbortController();
    const gone = q.acquire(controller.signal);
    const next = q.acquire();
    controller.abort();
    await expect(gone).rejects.toMatchObject({ code: 'ABORTED' });
    expect(q.waiting).toBe(1);
    q.release('s');
    expect(await next).toBe('s');
    expect(q.active).toBe(1);
  });
});
