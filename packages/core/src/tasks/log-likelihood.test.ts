import { describe, expect, it } from 'vitest';
import { generateText } from '../generation/generate.js';
import { createReferenceBackend } from '../testing/reference-backend.js';
import { SHARED_MISSING_REASON, stories260KPaths } from '../testing/shared-data.js';
import { multipleChoice, scoreContinuation, scoreTokens } from './log-likelihood.js';

const paths = stories260KPaths();

describe.skipIf(!paths)(`log-likelihood scoring on stories260K ${paths ? '' : SHARED_MISSING_REASON}`, () => {
  const load = () => createReferenceBackend().load({ path: paths!.model, tokenizerPath: paths!.tokenizer });

  it("the model's own greedy continuation is greedy and scores higher than a shuffled one", async () => {
    const model = await load();
    const greedy = await generateText({ model, prompt: 'Once upon a time', maxTokens: 8, temperature: 0 });
    const prompt = model.tokenizer.encode('Once upon a time');
    const own = await scoreTokens(model, prompt, greedy.tokens);
    expect(own.isGreedy).toBe(true);
    expect(own.tokenCount).toBe(8);
    const shuffled = await scoreTokens(model, prompt, [...greedy.tokens].reverse());
    expect(shuffled.isGreedy).toBe(false);
    expect(own.logprob).toBeGreaterThan(shuffled.logprob);
  });

  it('multiple choice prefers the plausible ending', async () => {
    const model = await load();
    const result = await multipleChoice(model, 'Lily went to the park to play with her', [
      ' friends.',
      ' xylophone quantum.',
    ]);
    expect(result.best).toBe(0);
    expect(result.bestNormalized).toBe(0);
    const single = await scoreContinuation(model, 'Lily went to the park to play with her', ' friends.');
    expect(single.logprob).toBeCloseTo(result.scores[0].logprob, 9);
  });
});
