import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { bitsPerByte, chunkedNll, perplexityFromNll, tokenNll } from './perplexity.js';

describe('perplexity math', () => {
  it('is exp of the mean NLL', () => {
    expect(perplexityFromNll([Math.log(4), Math.log(4)])).toBeCloseTo(4, 12);
    // uniform over 512 tokens -> perplexity 512
    expect(perplexityFromNll(new Array(10).fill(Math.log(512)))).toBeCloseTo(512, 9);
    expect(() => perplexityFromNll([])).toThrow(/no scored tokens/);
  });

  it('gives bits per byte from nats', () => {
    // 8 tokens of ln 2 nats each = 8 bits over 4 bytes -> 2 bits per byte
    expect(bitsPerByte(new Array(8).fill(Math.LN2), 4)).toBeCloseTo(2, 12);
    expect(() => bitsPerByte([1], 0)).toThrow(/> 0/);
  });

  it('computes token NLL as -log softmax', () => {
    const row = new Float32Array([1, 2, 3]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(tokenNll(row, 2)).toBeCloseTo(-Math.log(Math.exp(3) / z), 6);
    expect(tokenNll(new Float32Array([1000, 0]), 0)).toBeCloseTo(0, 6);
  });
});

describe('chunkedNll', () => {
  it('scores the second half of each chunk, matching token-by-token evaluation', async () => {
    const data = createRandomModel({ seed: 5 });
    const backend = createReferenceBackend();
    const model = await backend.load(data);
    try {
      const text = 'the quick brown fox jumps over the lazy dog and then it runs far away into the dark woods again';
      const result = await chunkedNll(model, text, { contextSize: 16, maxChunks: 2 });
      expect(result.chunks).toBe(2);
      // llama.cpp scores tokens n/2+1 .. n-1 of each chunk: 7 per chunk of 16
      expect(result.nll).toHaveLength(14);
      expect(result.scoredBytes).toBeGreaterThan(0);
      // Independent path: evaluate chunk 1 one token at a time and score tokens 9..15 from 'last' logits.
      const tokens = model.tokenizer.encode(text, { addSpecialTokens: false }).slice(16, 32);
      const input = [model.tokenizer.special.bos as number, ...tokens.slice(1)];
      const seq = await model.createSequence();
      const expected: number[] = [];
      for (let j = 0; j < 16; j++) {
        const logits = await seq.forward([input[j]], { logits: 'last' });
        if (j + 1 >= 9 && j + 1 < 16) expected.push(tokenNll(logits.last(), tokens[j + 1]));
      }
      await seq.dispose();
      const got = result.nll.slice(7);
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i], 4);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  });

  it('refuses text shorter than one chunk', async () => {
    const backend = createReferenceBackend();
    const model = await backend.load(createRandomModel());
    await expect(chunkedNll(model, 'short', { contextSize: 64 })).rejects.toThrow(/fewer than one chunk/);
    await model.dispose();
  });
});
