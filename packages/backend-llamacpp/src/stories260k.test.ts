import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, type LoadedModel, perplexity } from '@slmkit/core';
import { createReferenceBackend, goldenContinuations } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '@slmkit/core/testing/shared';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheModelFilesAsGguf } from './gguf-cache.js';
import { createLlamaCppBackend } from './llamacpp-backend.js';
import type { LlamaCppModel } from './llamacpp-model.js';

const paths = stories260KPaths();
const cacheDir = mkdtempSync(join(tmpdir(), 'slmkit-llamacpp-stories-'));

const PROMPTS = ['Once upon a time', 'Lily and Tom went to the park', 'The little dog', 'One day, a big'];

/** A fixed text for perplexity (TinyStories-like, so the model is not hopeless on it). */
const PERPLEXITY_TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play with her toys in the garden. One day, ' +
  'she saw a big red ball under a tree. She ran to the ball and picked it up. "This is my ball now," she said. ' +
  'Her friend Tom came and said, "Can we play together?" Lily smiled and said yes. They played with the ball all ' +
  'day. When the sun went down, they were tired and happy. Lily went home and told her mom about her fun day. Her ' +
  'mom gave her a big hug and said, "I am proud of you for sharing." Lily went to bed and dreamed of the park.';

describe.skipIf(!paths)(`llamacpp on stories260K ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  const backend = createLlamaCppBackend({ cacheDir });
  const reference = createReferenceBackend();
  let ours: LlamaCppModel;
  let ref: LoadedModel;
  let ggufPath: string;

  beforeAll(async () => {
    const files = { path: paths!.model, tokenizerPath: paths!.tokenizer };
    ggufPath = (await cacheModelFilesAsGguf(files, { cacheDir })).path;
    ours = (await backend.load(files)) as LlamaCppModel;
    ref = await reference.load(files);
  });
  afterAll(async () => {
    await ours?.dispose();
    await ref?.dispose();
    await backend.dispose();
    await reference.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('converts the llama2.c files on the fly and reproduces the llama2.c reference text', async () => {
    expect(ours.info.details?.converted).toBe(true);
    const golden = goldenContinuations.stories260K;
    const result = await generateText({
      model: ours,
      prompt: golden.prompt,
      maxTokens: golden.ids.length,
      temperature: 0,
    });
    expect(result.tokens).toEqual(golden.ids);
    expect(result.text).toBe(golden.text);
  });

  it('greedy 100 tokens equal the reference backend token for token, native loop and forward loop', async () => {
    for (const prompt of PROMPTS) {
      const expected = await generateText({ model: ref, prompt, maxTokens: 100, temperature: 0, stopTokens: [] });
      const native = await generateText({ model: ours, prompt, maxTokens: 100, temperature: 0, stopTokens: [] });
      const forward = await generateText({
        model: ours,
        prompt,
        maxTokens: 100,
        temperature: 0,
        stopTokens: [],
        allowNativeGeneration: false,
      });
      expect(native.tokens, prompt).toEqual(expected.tokens);
      expect(forward.tokens, prompt).toEqual(expected.tokens);
      expect(native.tokens).toHaveLength(100);
    }
  });

  it('our GGUF loads in plain node-llama-cpp (no slmkit code) and gives the same greedy text', async () => {
    const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false });
    try {
      const model = await llama.loadModel({ modelPath: ggufPath });
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const sequence = context.getSequence();
      const prompt = 'Once upon a time';
      const input = [model.tokens.bos!, ...model.tokenize(prompt)];
      const out = [];
      for await (const token of sequence.evaluate(input, { temperature: 0 })) {
        out.push(token);
        if (out.length >= 100) break;
      }
      const expected = await generateText({ model: ref, prompt, maxTokens: 100, temperature: 0, stopTokens: [] });
      expect(out.map(Number)).toEqual(expected.tokens);
      expect(model.detokenize(out)).toBe(expected.text);
      expect(model.detokenize(out).startsWith(goldenContinuations.stories260K.text)).toBe(true);
      await context.dispose();
      await model.dispose();
    } finally {
      await llama.dispose();
    }
  });

  it("llama.cpp's tokenizer gives our tokenizer's ids for the stories vocabulary as written by our GGUF writer", () => {
    const inp = sharedPath('vocab', 'ggml-vocab-llama-spm.gguf.inp');
    const texts = [
      ...readFileSync(inp!, 'utf8').split('\n__ggml_vocab_test__\n'),
      'Once upon a time',
      ' Lily\n\nTom 123 ça!',
    ];
    let checked = 0;
    for (const text of texts) {
      if (text.length === 0) continue;
      const llamaIds = ours.native.tokenize(text, false).map(Number);
      expect(llamaIds, JSON.stringify(text)).toEqual(ours.tokenizer.encode(text, { addSpecialTokens: false }));
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('perplexity (llama.cpp method) agrees with the reference backend to 1e-3 relative', async () => {
    const tokens = ours.tokenizer.encode(PERPLEXITY_TEXT);
    expect(tokens.length).toBeGreaterThan(128);
    const a = await perplexity(ours, tokens, { contextSize: 64 });
    const b = await perplexity(ref, tokens, { contextSize: 64 });
    expect(a.chunks).toBeGreaterThanOrEqual(2);
    expect(a.scoredTokens).toBe(b.scoredTokens);
    expect(Math.abs(a.perplexity - b.perplexity) / b.perplexity).toBeLessThan(1e-3);
    expect(a.perplexity).toBeGreaterThan(1);
    expect(a.perplexity).toBeLessThan(50);
  });

  it('reuses the KV cache across chat-like turns (only new tokens are evaluated)', async () => {
    const sequence = await ours.createSequence();
    const turn1 = ours.tokenizer.encode('Once upon a time');
    const r1 = await generateText({
      model: ours,
      sequence,
      prompt: turn1,
      maxTokens: 10,
      temperature: 0,
      stopTokens: [],
    });
    const before = sequence.counters.evaluatedTokens;
    const turn2 = [...turn1, ...r1.tokens, ...ours.tokenizer.encode(' Tom said', { addSpecialTokens: false })];
    const r2 = await generateText({
      model: ours,
      sequence,
      prompt: turn2,
      maxTokens: 5,
      temperature: 0,
      stopTokens: [],
    });
    expect(r2.usage.cachedPromptTokens).toBeGreaterThanOrEqual(turn1.length + r1.tokens.length - 1);
    // New prompt tokens plus the generated ones (the last generated token is never evaluated).
    expect(sequence.counters.evaluatedTokens - before).toBeLessThanOrEqual(
      turn2.length - r2.usage.cachedPromptTokens + 5,
    );
    await sequence.dispose();
  });
});
