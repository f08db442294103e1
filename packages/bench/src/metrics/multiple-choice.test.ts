import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { choiceAccuracy, scoreChoices, sst2Items } from './multiple-choice.js';
import { tokenNll } from './perplexity.js';

describe('choiceAccuracy', () => {
  it('computes acc and byte-normalised acc_norm', () => {
    const scored = [
      // raw: choice 1 wins (-4 > -5); per byte: choice 0 wins (-5/10 > -4/2)
      { logLikelihoods: [-5, -4], byteLengths: [10, 2], gold: 0 },
      { logLikelihoods: [-1, -3], byteLengths: [1, 1], gold: 0 },
    ];
    expect(choiceAccuracy(scored)).toEqual({ acc: 0.5, accNorm: 1, items: 2 });
  });
});

describe('scoreChoices', () => {
  it('sums the continuation log-probabilities after the context', async () => {
    const backend = createReferenceBackend();
    const model = await backend.load(createRandomModel({ seed: 2 }));
    try {
      const item = { context: 'the sky is', choices: [' blue', ' green tea'], gold: 0 };
      const scores = await scoreChoices(model, item);
      expect(scores.byteLengths).toEqual([5, 10]);
      // independent: evaluate context + choice token by token
      const whole = model.tokenizer.encode(item.context + item.choices[1]);
      const ctx = model.tokenizer.encode(item.context);
      const seq = await model.createSequence();
      let ll = 0;
      for (let j = 0; j < whole.length - 1; j++) {
        const logits = await seq.forward([whole[j]]);
        if (j + 1 >= ctx.length) ll -= tokenNll(logits.last(), whole[j + 1]);
      }
      await seq.dispose();
      expect(scores.logLikelihoods[1]).toBeCloseTo(ll, 4);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  });

  it('reads SST-2 rows as two-way items', () => {
    const items = sst2Items('sentence\tlabel\ngreat movie \t1\nawful .\t0\n', 10);
    expect(items).toEqual([
      { context: 'Review: great movie \nSentiment:', choices: [' negative', ' positive'], gold: 1 },
      { context: 'Review: awful .\nSentiment:', choices: [' negative', ' positive'], gold: 0 },
    ]);
    expect(() => sst2Items('h\nbad row\n', 5)).toThrow(/line 2/);
  });
});
