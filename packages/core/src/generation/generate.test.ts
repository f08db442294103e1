import { describe, expect, it } from 'vitest';
import { createRandomModel } from '../testing/random-model.js';
import { createReferenceBackend } from '../testing/reference-backend.js';
import { generate, generateText } from './generate.js';

const data = createRandomModel({ seed: 11, contextLength: 48, tiedEmbeddings: false });
const modelPromise = createReferenceBackend().load(data);

describe('generate', () => {
  it('streams token and text parts and finishes with usage and timings', async () => {
    const model = await modelPromise;
    const parts = [];
    for await (const part of generate({ model, prompt: 'abc', maxTokens: 5, temperature: 0, stopTokens: [] }))
      parts.push(part);
    const finish = parts.at(-1);
    expect(finish?.type).toBe('finish');
    if (finish?.type !== 'finish') throw new Error('no finish');
    expect(finish.finishReason).toBe('length');
    expect(finish.usage.completionTokens).toBe(5);
    expect(finish.usage.promptTokens).toBe(data.tokenizer.encode('abc').length);
    expect(finish.timings.timeToFirstTokenMs).toBeGreaterThan(0);
    const ids = parts.flatMap((p) => (p.type === 'token' ? [p.id] : []));
    const text = parts.flatMap((p) => (p.type === 'text-delta' ? [p.text] : [])).join('');
    expect(ids).toHaveLength(5);
    // streamed text equals decoding the ids in the context of the prompt
    const promptIds = data.tokenizer.encode('abc');
    const whole = data.tokenizer.decode([...promptIds, ...ids]);
    expect(whole).toBe(data.tokenizer.decode(promptIds) + text);
  });

  it('stops at a stop string, excluding it, and reports which', async () => {
    const model = await modelPromise;
    const free = await generateText({ model, prompt: 'abc', maxTokens: 30, temperature: 0, stopTokens: [] });
    const stop = free.text.slice(3, 5);
    const cut = await generateText({
      model,
      prompt: 'abc',
      maxTokens: 30,
      temperature: 0,
      stopTokens: [],
      stop: [stop],
    });
    expect(cut.finishReason).toBe('stop');
    expect(cut.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
  });

  it('stops at a stop token', async () => {
    const model = await modelPromise;
    const free = await generateText({ model, prompt: 'abc', maxTokens: 10, temperature: 0, stopTokens: [] });
    const result = await generateText({
      model,
      prompt: 'abc',
      maxTokens: 10,
      temperature: 0,
      stopTokens: [free.tokens[2]],
    });
    expect(result.finishReason).toBe('stop');
    expect(result.tokens).toEqual(free.tokens.slice(0, 3));
  });

  it('ends with context-full when the window is exhausted', async () => {
    const model = await modelPromise;
    const result = await generateText({ model, prompt: 'abc', maxTokens: 1000, temperature: 0, stopTokens: [] });
    expect(result.finishReason).toBe('context-full');
    expect(result.promptTokens + result.tokens.length).toBe(model.contextSize + 1);
  });

  it('reuses the cached prefix of a sequence and evaluates only new tokens', async () => {
    const model = await modelPromise;
    const sequence = await model.createSequence();
    const first = await generateText({
      model,
      sequence,
      prompt: 'hello',
      maxTokens: 3,
      temperature: 0,
      stopTokens: [],
    });
    const before = sequence.counters.evaluatedTokens;
    const promptIds = [
      ...data.tokenizer.encode('hello'),
      ...first.tokens,
      ...data.tokenizer.encode(' more', { addSpecialTokens: false }),
    ];
    const second = await generateText({
      model,
      sequence,
      prompt: promptIds,
      maxTokens: 2,
      temperature: 0,
      stopTokens: [],
    });
    expect(second.usage.cachedPromptTokens).toBe(
      promptIds.length - data.tokenizer.encode(' more', { addSpecialTokens: false }).length - 1,
    );
    // new prompt tokens (+1: the last generated token was never evaluated) plus one per generated token after the first
    expect(sequence.counters.evaluatedTokens - before).toBe(promptIds.length - second.usage.cachedPromptTokens + 1);
    const fresh = await generateText({ model, prompt: promptIds, maxTokens: 2, temperature: 0, stopTokens: [] });
    expect(second.tokens).toEqual(fresh.tokens);
  });

  it('returns log-probabilities when asked', async () => {
    const model = await modelPromise;
    const result = await generateText({
      model,
      prompt: 'abc',
      maxTokens: 4,
      temperature: 0,
      logprobs: true,
      stopTokens: [],
    });
    expect(result.logprobs).toHaveLength(4);
    for (const lp of result.logprobs ?? []) expect(lp).toBeLessThanOrEqual(0);
  });

  it('ends with finishReason abort when stopOnAbort is set', async () => {
    const model = await modelPromise;
    const controller = new AbortController();
    let n = 0;
    let reason = '';
    for await (const part of generate({
      model,
      prompt: 'abc',
      maxTokens: 40,
      temperature: 0,
      stopTokens: [],
      signal: controller.signal,
      stopOnAbort: true,
    })) {
      if (part.type === 'token' && ++n === 2) controller.abort();
      if (part.type === 'finish') reason = part.finishReason;
    }
    expect(reason).toBe('abort');
    expect(n).toBeLessThanOrEqual(3);
  });

  it('rejects bad arguments with typed errors', async () => {
    const model = await modelPromise;
    await expect(generateText({ model, prompt: [99999], maxTokens: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(generateText({ model, prompt: 'x', maxTokens: -1 })).rejects.toMatchObject({ field: 'maxTokens' });
    await expect(generateText({ model, prompt: 'x', topP: 2 })).rejects.toMatchObject({ field: 'topP' });
  });
});

describe('generate and the event loop', () => {
  it('an abort fired by a timer stops a long generation on a synchronous backend', async () => {
    const big = await createReferenceBackend().load(
      createRandomModel({ seed: 5, contextLength: 2048, dim: 64, nLayers: 4 }),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const result = await generateText({
      model: big,
      prompt: 'abc',
      maxTokens: 2000,
      temperature: 0,
      stopTokens: [],
      signal: controller.signal,
      stopOnAbort: true,
    });
    expect(result.finishReason).toBe('abort');
    expect(result.tokens.length).toBeLessThan(2000);
  });
});
