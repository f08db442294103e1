import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTypeScript, stopProcess, waitForLine } from '../testing/test-process.js';

// The server runs in a child process of its own (the test model on the reference backend) so that its RSS is the
// server's alone.
let child: ChildProcess;
let base: string;
let modelId: string;
let client: OpenAI;

beforeAll(async () => {
  child = spawnTypeScript(fileURLToPath(new URL('../testing/serve-fixture.ts', import.meta.url)));
  const match = await waitForLine(child, /listening (\S+) (\S+)/);
  base = match[1];
  modelId = match[2];
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'none', maxRetries: 0 });
});

afterAll(async () => {
  if (child) await stopProcess(child);
});

async function rss(): Promise<number> {
  const health = (await (await fetch(`${base}/health`)).json()) as { memory: { rss: number } };
  return health.memory.rss;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function streamChat(content: string, maxTokens: number): Promise<string> {
  const stream = await client.chat.completions.create({
    model: modelId,
    messages: [{ role: 'user', content }],
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

const SUBJECTS = ['a cat', 'a dog', 'a bird', 'a fish', 'a frog', 'a king', 'a girl', 'a boy', 'a tree', 'a car'];

describe('slm serve under load', () => {
  it('50 concurrent greedy streams each equal the same request run alone; RSS returns within 10% of idle', async () => {
    const prompts = Array.from(
      { length: 50 },
      (_, i) => `Tell me about ${SUBJECTS[i % 10]} number ${Math.floor(i / 10)}.`,
    );
    const alone: string[] = [];
    for (const p of prompts) alone.push(await streamChat(p, 40));
    expect(new Set(alone).size).toBeGreaterThan(5); // different prompts give different answers: a mix-up would show
    await new Promise((r) => setTimeout(r, 500));
    const idle = await rss();

    const together = await Promise.all(prompts.map((p) => streamChat(p, 40)));
    for (let i = 0; i < prompts.length; i++) expect(together[i], prompts[i]).toBe(alone[i]);

    let after = await rss();
    for (let i = 0; i < 20 && after > idle * 1.1; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await rss();
    }
    console.log(
      `server RSS: idle ${(idle / 2 ** 20).toFixed(1)} MiB, after 50 concurrent streams ${(after / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(after).toBeLessThanOrEqual(idle * 1.1);
    expect(await metric('slm_active_generations')).toBe(0);
  });

  it('a client that disconnects aborts its generation', async () => {
    const abortedBefore = await metric('slm_generations_aborted_total');
    const tokensBefore = await metric('slm_completion_tokens_total');
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      {
        model: modelId,
        messages: [{ role: 'user', content: 'Tell me a very long story.' }],
        max_tokens: 400,
        temperature: 0,
        stream: true,
      },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const _ of stream) if (++chunks === 5) controller.abort();
    } catch {
      // The client may end the iteration quietly or with an abort error; either way the connection is closed.
    }
    expect(chunks).toBe(5);
    let aborted = abortedBefore;
    for (let i = 0; i < 40 && aborted === abortedBefore; i++) {
      await new Promise((r) => setTimeout(r, 50));
      aborted = await metric('slm_generations_aborted_total');
    }
    expect(aborted).toBe(abortedBefore + 1);
    expect(await metric('slm_active_generations')).toBe(0);
    // An aborted generation records no completion tokens, and the server goes on serving.
    expect(await metric('slm_completion_tokens_total')).toBe(tokensBefore);
    expect((await streamChat('hello', 5)).length).toBeGreaterThan(0);
  });
});
