// Prints the golden continuations computed by the reference backend (paste into src/testing/goldens.ts when the
// fixture changes on purpose). Needs a build (`pnpm build`) and ../shared.
import { generateText } from '../dist/index.js';
import { createRandomModel, createReferenceBackend, goldenContinuations } from '../dist/testing/index.js';
import { stories260KPaths } from '../dist/testing/shared-data.js';

const backend = createReferenceBackend();
const random = await backend.load(createRandomModel(goldenContinuations.random.model));
const r = await generateText({
  model: random,
  prompt: goldenContinuations.random.prompt,
  maxTokens: 24,
  temperature: 0,
  stopTokens: [],
});
console.log('random', JSON.stringify(r.tokens), JSON.stringify(r.text));
const paths = stories260KPaths();
const stories = await backend.load({ path: paths.model, tokenizerPath: paths.tokenizer });
const s = await generateText({ model: stories, prompt: 'Once upon a time', maxTokens: 60, temperature: 0 });
console.log(
  'stories',
  JSON.stringify(s.tokens),
  JSON.stringify(s.text),
  s.finishReason,
  s.timings.decodeTokensPerSecond,
);
console.log('prompt ids', JSON.stringify(stories.tokenizer.encode('Once upon a time')));
