import { describe, expect, it } from 'vitest';
import { SlmError } from '../errors/index.js';
import { logSoftmax } from '../generation/sampler.js';
import { createRandomModel, createReferenceBackend } from '../testing/index.js';
import { perplexity } from './perplexity.js';

describe('perplexity (llama.cpp method)', () => {
  const data = createRandomModel({ seed: 3 });
  const tokens = Array.from({ length: 45 }, (_, i) => 3 + ((i * 37 + 11) % 250));

  it('equals exp(mean NLL) of the second half of each chunk, computed token by token', async () => {
    const model = await createReferenceBackend().load(data);
    const n = 16;
    const result = await perplexity(model, tokens, { contextSize: n });
    expect(result.chunks).toBe(2);
    expect(result.scoredTokens).toBe(2 * (n - n / 2 - 1));
    // Independent: feed each chunk one token at a time and score positions n/2 .. n-2.
    let nll = 0;
    let count = 0;
    for (let c = 0; c < 2; c++) {
      const chunk = tokens.slice(c * n, (c + 1) * n);
      chunk[0] = model.tokenizer.special.bos ?? chunk[0];
      const sequence = await model.createSequence();
      for (let j = 0; j < n - 1; j++) {
        const row = (await sequence.forward([chunk[j]])).last();
        if (j >= n / 2) {
          nll -= logSoftmax(row)[chunk[j + 1]];
          count++;
        }
      }
      await sequence.dispose();
    }
    expect(count).toBe(result.scoredTokens);
    expect(result.perplexity).toBeCloseTo(Math.exp(nll / count), 4);
    expect(result.perChunk).toHaveLength(2);
    expect(result.perChunk[1]).toBeCloseTo(result.perplexity, 10);
    await model.dispose();
  });

  it('rejects texts shorter than one chunk and bad context sizes with typed errors', async () => {
    const model = await createReferenceBackend().load(data);
    await expect(perplexity(model, tokens.slice(0, 10), { contextSize: 16 })).rejects.toSatisfy(
      (e: unknown) => SlmError.isInstance(e) && e.code === 'INVALID_ARGUMENT',
    );
    await expect(perplexity(model, tokens, { contextSize: model.contextSize + 1 })).rejects.toSatisfy(
      (e: unknown) => SlmError.isInstance(e) && e.code === 'INVALID_ARGUMENT',
    );
    await model.dispose();
  });

  it('stops with an AbortError when aborted', async () => {
    const model = await createReferenceBackend().load(data);
    const controller = new AbortController();
    controller.abort();
    await expect(perplexity(model, tokens, { contextSize: 16, signal: controller.signal })).rejects.toSatisfy(
      (e: unknown) => SlmError.isInstance(e) && e.code === 'ABORTED',
    );
    await model.dispose();
  });
});
