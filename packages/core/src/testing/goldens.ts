import type { RandomModelOptions } from './random-model.js';

/**
 * Golden greedy continuations the conformance suite checks every backend against.
 * - `stories260K`: the llama2.c reference continuation given in ../shared/README.md (prompt "Once upon a time",
 *   BOS prepended), as token ids of the 512-token tokenizer.
 * - `random`: the random-weight fixture (`createRandomModel(model)`), ids produced by the reference backend;
 *   regenerate with `pnpm --filter @slmkit/core goldens` only when the fixture itself changes on purpose.
 */
export const goldenContinuations = {
  stories260K: {
    prompt: 'Once upon a time',
    text: ', there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily',
    ids: [
      432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265,
      282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335,
      312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310,
    ],
  },
  random: {
    model: { seed: 7, tiedEmbeddings: false } satisfies RandomModelOptions,
    prompt: 'the quick brown fox',
    ids: [
      47, 62, 51, 142, 192, 240, 80, 295, 107, 242, 262, 151, 2, 205, 209, 100, 250, 102, 204, 224, 249, 283, 160, 33,
    ],
  },
};
