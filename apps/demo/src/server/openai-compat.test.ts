import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTestModel } from '../testing/test-model.js';
import { createDemoServer, type DemoServer } from './demo-server.js';

let server: DemoServer;
let baseURL: string;
let modelId: string;
let client: OpenAI;

beforeAll(async () => {
  const { model, options } = await loadTestModel();
  modelId = options.id;
  server = await createDemoServer({
    models: [{ ...options, model, concurrency: 2 }],
    port: 0,
    apiKey: 'test-key',
    bodyLimit: 64 * 1024,
    maxTokensLimit: 200,
  });
  baseURL = `${await server.listen()}/v1`;
  client = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseURL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-key', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      error?: { message: string; type: string; param: string | null; code: string | null };
    },
  };
}

describe('slm serve: the official openai client', () => {
  it('lists the model', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual([modelId]);
  });

  it('completes a chat, and streams the same chat token by token (greedy)', async () => {
    const messages = [{ role: 'user' as const, content: 'Tell me a story about a cat.' }];
    const done = await client.chat.completions.create({ model: modelId, messages, max_tokens: 40, temperature: 0 });
    const text = done.choices[0].message.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(done.usage?.completion_tokens).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(done.choices[0].finish_reason);

    const stream = await client.chat.completions.create({
      model: modelId,
      messages,
      max_tokens: 40,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThan(3); // streamed in pieces, not one block
    expect(deltas.join('')).toBe(text);
    expect(finish).toBe(done.choices[0].finish_reason);
    expect(usage?.completion_tokens).toBe(done.usage?.completion_tokens);
  });

  it('gets a completion (with logprobs, seed and stop)', async () => {
    const res = await client.completions.create({
      model: modelId,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
      logprobs: 0,
    });
    const text = res.choices[0].text;
    expect(text.length).toBeGreaterThan(0);
    const lp = res.choices[0].logprobs;
    expect(lp?.token_logprobs?.length).toBe(res.usage?.completion_tokens);
    for (const v of lp?.token_logprobs ?? []) expect(v).toBeLessThanOrEqual(0);
    if (modelId === 'stories260K') {
      // llama2.c's reference output for this prompt (../shared/README.md).
      expect(text.startsWith(', there was a little girl named Lily.')).toBe(true);
    }
    const word = text.trim().split(/\s+/)[2];
    const stopped = await client.completions.create({
      model: modelId,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
      stop: [word],
    });
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(text.startsWith(stopped.choices[0].text)).toBe(true);
    expect(stopped.choices[0].text).not.toContain(word);
    const a = await client.completions.create({
      model: modelId,
      prompt: 'Once',
      max_tokens: 20,
      temperature: 1,
      seed: 42,
    });
    const b = await client.completions.create({
      model: modelId,
      prompt: 'Once',
      max_tokens: 20,
      temperature: 1,
      seed: 42,
    });
    expect(a.choices[0].text).toBe(b.choices[0].text);
  });

  it('reports the log-probability of each sampled token in a chat', async () => {
    const res = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 12,
      temperature: 0,
      logprobs: true,
    });
    const content = res.choices[0].logprobs?.content ?? [];
    expect(content.length).toBe(res.usage?.completion_tokens);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(typeof entry.token).toBe('string');
    }
  });

  it('streams a completion', async () => {
    const stream = await client.completions.create({
      model: modelId,
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      chunks++;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text.length).toBeGreaterThan(0);
  });
});

describe('slm serve: bad input gets an OpenAI error object and the server keeps serving', () => {
  const chat = { model: '', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };

  it('malformed JSON -> 400', async () => {
    const r = await post('/chat/completions', '{"model": "x", "messages": [');
    expect(r.status).toBe(400);
    expect(r.body.error?.type).toBe('invalid_request_error');
    expect(r.body.error?.code).toBe('invalid_json');
  });

  it('wrong types -> 400 naming the parameter', async () => {
    for (const [patch, param] of [
      [{ max_tokens: 'ten' }, 'max_tokens'],
      [{ temperature: 'hot' }, 'temperature'],
      [{ messages: 'hello' }, 'messages'],
      [{ messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
      [{ stop: [1, 2] }, 'stop'],
      [{ seed: 1.5 }, 'seed'],
      [{ stream: 'yes' }, 'stream'],
      [{ top_p: 0 }, 'top_p'],
      [{ temperature: 3 }, 'temperature'],
      [{ n: 2 }, 'n'],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ] as const) {
      const r = await post('/chat/completions', { ...chat, model: modelId, ...patch });
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(r.body.error?.param).toBe(param);
      expect(typeof r.body.error?.message).toBe('string');
    }
    const r = await post('/completions', { model: modelId, prompt: { text: 'x' } });
    expect(r.status).toBe(400);
    expect(r.body.error?.param).toBe('prompt');
  });

  it('unknown model -> 404 model_not_found', async () => {
    const r = await post('/chat/completions', { ...chat, model: 'gpt-9' });
    expect(r.status).toBe(404);
    expect(r.body.error?.code).toBe('model_not_found');
    await expect(
      client.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('max_tokens above the limit -> 400', async () => {
    const r = await post('/chat/completions', { ...chat, model: modelId, max_tokens: 201 });
    expect(r.status).toBe(400);
    expect(r.body.error?.param).toBe('max_tokens');
    expect(r.body.error?.message).toMatch(/limit of 200/);
  });

  it('a prompt longer than the context -> 400 context_length_exceeded', async () => {
    const long = 'the cat sat on the mat. '.repeat(400);
    const r = await post('/chat/completions', { ...chat, model: modelId, messages: [{ role: 'user', content: long }] });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('context_length_exceeded');
    const c = await post('/completions', { model: modelId, prompt: long });
    expect(c.status).toBe(400);
    expect(c.body.error?.code).toBe('context_length_exceeded');
  });

  it('a body over the size limit -> 413', async () => {
    const r = await post('/chat/completions', {
      ...chat,
      model: modelId,
      messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }],
    });
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('request_too_large');
  });

  it('a missing or wrong API key -> 401; unknown routes -> 404', async () => {
    const r = await post('/chat/completions', { ...chat, model: modelId }, { authorization: 'Bearer nope' });
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('invalid_api_key');
    const bad = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401 });
    const nf = await fetch(`${baseURL}/nothing`, { headers: { authorization: 'Bearer test-key' } });
    expect(nf.status).toBe(404);
    const badUrl = await fetch(`${baseURL.replace('/v1', '')}/%E0%A4%A`);
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const traversal = await fetch(`${baseURL.replace('/v1', '')}/assets/..%2F..%2F..%2Fpackage.json`);
    expect(traversal.status).toBe(404);
  });

  it('still serves, and reports metrics and health', async () => {
    const ok = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
      temperature: 0,
    });
    expect(ok.choices[0].message.role).toBe('assistant');
    const metrics = await (
      await fetch(`${baseURL.replace('/v1', '')}/metrics`, { headers: { authorization: 'Bearer test-key' } })
    ).text();
    expect(metrics).toMatch(
      /slm_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="400"\} \d+/,
    );
    expect(metrics).toMatch(/slm_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="413"\} 1/);
    expect(metrics).toMatch(new RegExp(`slm_completion_tokens_total\\{model="${modelId}"\\} \\d+`));
    expect(metrics).toMatch(/slm_request_duration_seconds_bucket\{route="\/v1\/chat\/completions",le="\+Inf"\} \d+/);
    expect(metrics).toMatch(/slm_time_to_first_token_seconds_count\{model=".+"\} \d+/);
    const health = await (await fetch(`${baseURL.replace('/v1', '')}/health`)).json();
    expect(health.status).toBe('ok');
  });
});
