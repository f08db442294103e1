import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText } from '@slmkit/core';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseFlashAttention } from './flash-attention.js';
import { createLlamaCppBackend } from './llamacpp-backend.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'slmkit-llamacpp-fa-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('flash attention', () => {
  const small = createRandomModel({ seed: 4 }).spec; // head dim 8
  const wide = createRandomModel({ seed: 4, dim: 128, nHeads: 2, nKvHeads: 1, ffnDim: 256 }).spec; // head dim 64

  it('is on by default only for head dimensions of 64 and more, and can be forced', () => {
    expect(chooseFlashAttention(small)).toBe(false);
    expect(chooseFlashAttention(wide)).toBe(true);
    expect(chooseFlashAttention(small, true)).toBe(true);
    expect(chooseFlashAttention(wide, false)).toBe(false);
  });

  /** Greedy ids and the largest logit difference against the reference backend. */
  async function compare(flashAttention: boolean): Promise<{ same: boolean; maxDiff: number; used: unknown }> {
    const data = createRandomModel({ seed: 4, dim: 128, nHeads: 2, nKvHeads: 1, ffnDim: 256 });
    const backend = createLlamaCppBackend({ cacheDir, flashAttention });
    const reference = createReferenceBackend();
    try {
      const ours = await backend.load(data);
      const ref = await reference.load(data);
      const prompt = 'the quick brown fox';
      const a = await generateText({ model: ours, prompt, maxTokens: 24, temperature: 0, stopTokens: [] });
      const b = await generateText({ model: ref, prompt, maxTokens: 24, temperature: 0, stopTokens: [] });
      const ids = data.tokenizer.encode('the quick brown fox jumps');
      const la = await (await ours.createSequence()).forward(ids, { logits: 'all' });
      const lb = await (await ref.createSequence()).forward(ids, { logits: 'all' });
      let maxDiff = 0;
      for (let i = 0; i < la.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(la.data[i] - lb.data[i]));
      const used = ours.info.details?.flashAttention;
      await ours.dispose();
      await ref.dispose();
      return { same: JSON.stringify(a.tokens) === JSON.stringify(b.tokens), maxDiff, used };
    } finally {
      await backend.dispose();
    }
  }

  it('head dim 64: greedy output equals the reference backend with and without flash attention', async () => {
    const off = await compare(false);
    const on = await compare(true);
    expect(off.used).toBe(false);
    expect(on.used).toBe(true);
    expect(off.same).toBe(true);
    expect(on.same).toBe(true);
    // llama.cpp keeps K/V in f16 either way (measured here: max |diff| 0.011 off, 0.018 on).
    expect(off.maxDiff).toBeLessThan(3e-2);
    expect(on.maxDiff).toBeLessThan(5e-2);
  });
});
