import { describe, expect, it } from 'vitest';
import { ContextOverflowError, InvalidArgumentError } from '../errors/index.js';
import { generateText } from '../generation/generate.js';
import { createRandomModel } from '../testing/random-model.js';
import { createReferenceBackend } from '../testing/reference-backend.js';
import { stories260KPaths } from '../testing/shared-data.js';
import { ChatSession } from './chat-session.js';

async function loadTiny(contextLength = 128) {
  return createReferenceBackend().load(createRandomModel({ seed: 7, contextLength }));
}

describe('ChatSession', () => {
  it('evaluates only the new tokens on the second turn (the KV cache is kept across turns)', async () => {
    const model = await loadTiny(256);
    const session = await ChatSession.create({ model, systemPrompt: 'be kind', temperature: 0, maxTokens: 12 });
    const first = await session.reply('hello there');
    expect(first.usage.cachedPromptTokens).toBe(0);
    const afterFirst = session.counters.evaluatedTokens;
    // Whole first prompt evaluated, then one forward per generated token except the last.
    expect(afterFirst).toBe(first.usage.promptTokens + first.usage.completionTokens - 1);
    const cachedAfterFirst = session.cachedTokens;

    const second = await session.reply('and then');
    const evaluated = session.counters.evaluatedTokens - afterFirst;
    // Everything the cache held after turn one is a prefix of the second prompt and is reused...
    expect(second.usage.cachedPromptTokens).toBe(cachedAfterFirst);
    // ...so only the new prompt tokens (the tail after the cache) and the answer are evaluated.
    const newPromptTokens = second.usage.promptTokens - cachedAfterFirst;
    expect(evaluated).toBe(newPromptTokens + second.usage.completionTokens - 1);
    const newMessageTokens = model.tokenizer.encode('User: and then\nAssistant:', { addSpecialTokens: false }).length;
    expect(newPromptTokens).toBeLessThanOrEqual(newMessageTokens + 4); // + last answer token, EOS, newline
    expect(session.history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    await session.dispose();
  });

  it("keeps the model's own answer ids in the prompt: turn two equals generate() on those ids from scratch", async () => {
    const model = await loadTiny(256);
    const session = await ChatSession.create({ model, temperature: 0, maxTokens: 8 });
    const firstIds: number[] = [];
    for await (const part of session.send('one')) if (part.type === 'token') firstIds.push(part.id);
    const firstPrompt = session.template.render([{ role: 'user', content: 'one' }]).ids;
    const second = await session.reply('two');
    // A fresh sequence fed the same token history (first prompt + sampled answer ids + rendered tail) agrees.
    const rendered = session.template.renderText(session.messages.slice(0, -1));
    const tailText = rendered.slice(rendered.indexOf(session.history[1].content) + session.history[1].content.length);
    const eos = model.tokenizer.special.eos;
    const answer = firstIds.at(-1) === eos ? firstIds.slice(0, -1) : firstIds;
    const ids = [
      ...firstPrompt,
      ...answer,
      ...model.tokenizer.encode(tailText, { addSpecialTokens: false, parseSpecialTokens: true }),
    ];
    expect(ids.length).toBe(second.usage.promptTokens);
    const fresh = await generateText({ model, prompt: ids, temperature: 0, maxTokens: 8, stop: ['\nUser:'] });
    expect(second.text).toBe(fresh.text);
    await session.dispose();
  });

  it('drops the oldest turns, keeping the system prompt, when the context is full', async () => {
    const model = await loadTiny(96);
    const session = await ChatSession.create({
      model,
      systemPrompt: 'sys',
      temperature: 0,
      maxTokens: 6,
      reserveTokens: 6,
    });
    const trims: number[] = [];
    for (let turn = 0; turn < 8; turn++) {
      for await (const part of session.send(`message number ${turn} with a few words`)) {
        if (part.type === 'history-trimmed') {
          trims.push(part.droppedMessages);
          expect(part.promptTokens + 6).toBeLessThanOrEqual(96);
        }
      }
      expect(session.messages[0]).toEqual({ role: 'system', content: 'sys' });
      expect(session.history.at(-2)).toEqual({ role: 'user', content: `message number ${turn} with a few words` });
    }
    expect(trims.length).toBeGreaterThan(0);
    expect(trims.every((n) => n % 2 === 0)).toBe(true); // whole turns (user + assistant) are dropped
    expect(session.history[0].content).not.toBe('message number 0 with a few words');
    await session.dispose();
  });

  it('throws ContextOverflowError when the system prompt and the new message alone do not fit', async () => {
    const model = await loadTiny(32);
    const session = await ChatSession.create({ model, temperature: 0, maxTokens: 4 });
    await expect(session.reply('word '.repeat(60))).rejects.toBeInstanceOf(ContextOverflowError);
    expect(session.history).toHaveLength(0);
    expect((await session.reply('hi')).finishReason).toBeDefined();
    await session.dispose();
  });

  it('an aborted answer ends with reason abort and keeps the partial text; reset forgets the history', async () => {
    const model = await loadTiny(256);
    const session = await ChatSession.create({ model, temperature: 0, maxTokens: 50, systemPrompt: 's' });
    const controller = new AbortController();
    let tokens = 0;
    let finish: string | undefined;
    for await (const part of session.send('go on', { signal: controller.signal, stop: [] })) {
      if (part.type === 'token' && ++tokens === 3) controller.abort();
      if (part.type === 'finish') finish = part.finishReason;
    }
    expect(finish).toBe('abort');
    expect(tokens).toBe(3);
    expect(session.history).toHaveLength(2);
    session.reset();
    expect(session.history).toHaveLength(0);
    expect(session.messages).toEqual([{ role: 'system', content: 's' }]);
    await expect(ChatSession.create({ model, maxTokens: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await session.dispose();
  });
});

const stories = stories260KPaths();
describe.skipIf(stories === undefined)('ChatSession on stories260K (../shared)', () => {
  it('the second turn evaluates only the new tokens: the cache holds everything the first turn evaluated', async () => {
    const paths = stories as NonNullable<typeof stories>;
    const model = await createReferenceBackend().load({ path: paths.model, tokenizerPath: paths.tokenizer });
    const session = await ChatSession.create({ model, systemPrompt: 'A story.', temperature: 0, maxTokens: 30 });
    await session.reply('Tell me about a dog.');
    const cached = session.cachedTokens;
    const before = session.counters.evaluatedTokens;
    const second = await session.reply('What happened next?');
    expect(second.usage.cachedPromptTokens).toBe(cached);
    const newPrompt = second.usage.promptTokens - cached;
    expect(session.counters.evaluatedTokens - before).toBe(newPrompt + second.usage.completionTokens - 1);
    const userTurn = model.tokenizer.encode('User: What happened next?\nAssistant:', {
      addSpecialTokens: false,
    }).length;
    expect(newPrompt).toBeLessThanOrEqual(userTurn + 4);
    await session.dispose();
  });
});
