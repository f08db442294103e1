import { AbortError, ContextOverflowError, InvalidArgumentError, SlmError } from '../errors/index.js';
import { generate, generateText } from '../generation/generate.js';
import type { Backend, EmbedOptions, LoadedModel, ModelData, ModelInput } from '../model/backend.js';
import { cosineSimilarity } from '../tasks/embed.js';
import { goldenContinuations } from './goldens.js';
import { createRandomModel } from './random-model.js';
import { createReferenceBackend } from './reference-backend.js';
import { stories260KPaths } from './shared-data.js';

/** Names of the conformance cases, for exclusion lists. */
export type ConformanceCaseName =
  | 'greedy-golden-random'
  | 'greedy-golden-stories260k'
  | 'kv-cache-reuse'
  | 'truncate-reuse'
  | 'full-logits'
  | 'native-generation-parity'
  | 'abort-within-one-token'
  | 'seeded-sampling'
  | 'bad-input'
  | 'embeddings'
  | 'dispose';

export interface ConformanceTarget {
  /** Shown in test names. */
  name: string;
  createBackend(): Backend | Promise<Backend>;
  /**
   * Turns the in-memory random fixture into what this backend loads (e.g. writes a GGUF or ONNX folder).
   * Default: pass the ModelData itself.
   */
  prepareFixture?(fixture: ModelData): Promise<ModelInput>;
  /** Turns the stories260K llama2.c files into what this backend loads. Default: the paths themselves. */
  prepareStories260K?(paths: { model: string; tokenizer: string }): Promise<ModelInput>;
  /**
   * Cases this backend cannot pass, each with the reason (TensorFlow.js-style explicit exclusions). An excluded
   * `embeddings` case still runs a check that the backend neither claims `capabilities.embeddings` nor gives its
   * models an `embed` method.
   */
  exclusions?: Partial<Record<ConformanceCaseName, string>>;
  /** Max absolute difference allowed between logits of the same position computed two ways. Default 1e-3. */
  logitTolerance?: number;
}

export interface ConformanceCase {
  name: ConformanceCaseName;
  description: string;
  /** When set, the case is skipped with this reason. */
  skip?: string;
  run(): Promise<void>;
}

class ConformanceFailure extends Error {
  override name = 'ConformanceFailure';
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert(a.length === b.length, `logit rows differ in length: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function expectError(fn: () => Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<void> {
  try {
    await fn();
  } catch (error) {
    assert(check(error), `${what}: got ${String(error)}`);
    return;
  }
  throw new ConformanceFailure(`${what}: no error was thrown`);
}

const FIXTURE_PROMPT = 'the quick brown fox';

/** Least cosine similarity between a backend's embedding and the reference backend's. */
export const EMBEDDING_MIN_COSINE = 0.999;

function norm(v: Float32Array): number {
  let sum = 0;
  for (const x of v) sum += x * x;
  return Math.sqrt(sum);
}

/**
 * Checks `model.embed` against the reference backend's on two texts: mean and last pooling agree to
 * EMBEDDING_MIN_COSINE, vectors are unit-norm by default and keep their length with `normalize: false`, two texts
 * differ, and an empty token list is a typed error.
 */
async function checkEmbeddings(model: LoadedModel, reference: LoadedModel, texts: readonly string[]): Promise<void> {
  const embed = model.embed?.bind(model);
  assert(embed, `${model.info.backend} claims embeddings but its LoadedModel has no embed method`);
  const ids = texts.map((text) => model.tokenizer.encode(text));
  for (const pooling of ['mean', 'last'] as const) {
    const vectors: Float32Array[] = [];
    for (const [i, tokens] of ids.entries()) {
      const options: EmbedOptions = { pooling };
      const got = await embed(tokens, options);
      const want = await reference.embed!(tokens, options);
      assert(
        got.length === model.spec.dim,
        `${pooling} embedding has ${got.length} values, expected ${model.spec.dim}`,
      );
      const cosine = cosineSimilarity(got, want);
      assert(
        cosine >= EMBEDDING_MIN_COSINE,
        `${pooling} embedding of text ${i} has cosine ${cosine} with the reference backend's`,
      );
      assert(Math.abs(norm(got) - 1) < 1e-3, `${pooling} embedding has norm ${norm(got)}, expected 1`);
      const raw = await embed(tokens, { pooling, normalize: false });
      const rawWant = await reference.embed!(tokens, { pooling, normalize: false });
      const ratio = norm(raw) / norm(rawWant);
      assert(Math.abs(ratio - 1) < 0.01, `${pooling} unnormalised embedding has ${ratio}x the reference norm`);
      vectors.push(got);
    }
    assert(maxAbsDiff(vectors[0], vectors[1]) > 1e-3, `${pooling} embeddings of two different texts are equal`);
  }
  await expectError(
    () => embed([]),
    (e) => SlmError.isInstance(e) && e.code === 'INVALID_ARGUMENT',
    'embedding an empty token list',
  );
}

/**
 * The backend conformance suite: the same behavioural checks run against every backend. Returns the cases; use
 * `runConformanceSuite` to register them with a test framework.
 */
export function conformanceCases(target: ConformanceTarget): ConformanceCase[] {
  const tolerance = target.logitTolerance ?? 1e-3;
  let backendPromise: Promise<Backend> | undefined;
  let fixturePromise: Promise<LoadedModel> | undefined;
  const backend = () => {
    backendPromise ??= Promise.resolve(target.createBackend());
    return backendPromise;
  };
  const fixture = createRandomModel(goldenContinuations.random.model);
  const loadFixture = () => {
    fixturePromise ??= (async () => {
      const input = target.prepareFixture ? await target.prepareFixture(fixture) : fixture;
      return (await backend()).load(input);
    })();
    return fixturePromise;
  };
  const stories = stories260KPaths();

  const cases: ConformanceCase[] = [
    {
      name: 'greedy-golden-random',
      description: 'greedy continuation of the random fixture equals the golden ids',
      async run() {
        const model = await loadFixture();
        const golden = goldenContinuations.random;
        const result = await generateText({
          model,
          prompt: golden.prompt,
          maxTokens: golden.ids.length,
          temperature: 0,
          stopTokens: [],
        });
        assert(
          JSON.stringify(result.tokens) === JSON.stringify(golden.ids),
          `ids ${JSON.stringify(result.tokens)} != golden ${JSON.stringify(golden.ids)}`,
        );
      },
    },
    {
      name: 'greedy-golden-stories260k',
      description: 'greedy continuation of stories260K equals the llama2.c reference',
      skip: stories ? undefined : '../shared is absent',
      async run() {
        assert(stories, 'stories260K is missing');
        const input = target.prepareStories260K
          ? await target.prepareStories260K(stories)
          : { path: stories.model, tokenizerPath: stories.tokenizer };
        const model = await (await backend()).load(input);
        try {
          const golden = goldenContinuations.stories260K;
          const result = await generateText({
            model,
            prompt: golden.prompt,
            maxTokens: golden.ids.length,
            temperature: 0,
          });
          assert(
            JSON.stringify(result.tokens) === JSON.stringify(golden.ids),
            `ids ${JSON.stringify(result.tokens)} != golden ${JSON.stringify(golden.ids)}`,
          );
          assert(result.text === golden.text, `text ${JSON.stringify(result.text)} != ${JSON.stringify(golden.text)}`);
        } finally {
          await model.dispose();
        }
      },
    },
    {
      name: 'kv-cache-reuse',
      description: 'evaluating a prompt in two calls gives the same logits as one call',
      async run() {
        const model = await loadFixture();
        const ids = model.tokenizer.encode(`${FIXTURE_PROMPT} jumps over the lazy dog`);
        const whole = await model.createSequence();
        const split = await model.createSequence();
        try {
          const a = (await whole.forward(ids)).last();
          await split.forward(ids.slice(0, 5), { logits: 'none' });
          const b = (await split.forward(ids.slice(5))).last();
          const diff = maxAbsDiff(a, b);
          assert(diff <= tolerance, `split evaluation differs by ${diff}`);
          assert(
            split.tokens.length === ids.length,
            `cache holds ${split.tokens.length} tokens, expected ${ids.length}`,
          );
        } finally {
          await whole.dispose();
          await split.dispose();
        }
      },
    },
    {
      name: 'truncate-reuse',
      description: 'truncating the cache and re-evaluating gives the same logits as a fresh sequence',
      async run() {
        const model = await loadFixture();
        const ids = model.tokenizer.encode(FIXTURE_PROMPT);
        const other = model.tokenizer.encode('zz top', { addSpecialTokens: false });
        const fresh = await model.createSequence();
        const reused = await model.createSequence();
        try {
          const expected = (await fresh.forward(ids)).last();
          await reused.forward([...ids.slice(0, 3), ...other]);
          await reused.truncate(3);
          assert(reused.tokens.length === 3, `after truncate(3) the cache holds ${reused.tokens.length}`);
          const got = (await reused.forward(ids.slice(3))).last();
          const diff = maxAbsDiff(expected, got);
          assert(diff <= tolerance, `reused cache differs by ${diff}`);
          await reused.reset();
          assert(reused.tokens.length < 1, 'reset left tokens in the cache');
          const again = (await reused.forward(ids)).last();
          assert(maxAbsDiff(expected, again) <= tolerance, 'reset cache gives different logits');
        } finally {
          await fresh.dispose();
          await reused.dispose();
        }
      },
    },
    {
      name: 'full-logits',
      description: 'logits for all positions equal the last-position logits of incremental calls',
      async run() {
        const model = await loadFixture();
        const ids = model.tokenizer.encode(FIXTURE_PROMPT);
        const all = await model.createSequence();
        const step = await model.createSequence();
        try {
          const rows = await all.forward(ids, { logits: 'all' });
          assert(rows.rows === ids.length, `${rows.rows} rows for ${ids.length} tokens`);
          for (let i = 0; i < ids.length; i++) {
            const last = (await step.forward([ids[i]])).last();
            const diff = maxAbsDiff(rows.row(i), last);
            assert(diff <= tolerance, `row ${i} differs by ${diff}`);
          }
        } finally {
          await all.dispose();
          await step.dispose();
        }
      },
    },
    {
      name: 'native-generation-parity',
      description: 'the native generation loop (if any) gives the same greedy ids as the forward loop',
      async run() {
        const model = await loadFixture();
        const a = await generateText({ model, prompt: FIXTURE_PROMPT, maxTokens: 24, temperature: 0, stopTokens: [] });
        const b = await generateText({
          model,
          prompt: FIXTURE_PROMPT,
          maxTokens: 24,
          temperature: 0,
          stopTokens: [],
          allowNativeGeneration: false,
        });
        assert(JSON.stringify(a.tokens) === JSON.stringify(b.tokens), `native ${a.tokens} != forward ${b.tokens}`);
      },
    },
    {
      name: 'abort-within-one-token',
      description: 'aborting a generation stops it within one token with an AbortError',
      async run() {
        const model = await loadFixture();
        const controller = new AbortController();
        let tokensAfterAbort = 0;
        let aborted = false;
        let seen: number = 0;
        try {
          for await (const part of generate({
            model,
            prompt: FIXTURE_PROMPT,
            maxTokens: 100,
            temperature: 0,
            stopTokens: [],
            signal: controller.signal,
          })) {
            if (part.type !== 'token') continue;
            seen++;
            if (aborted) tokensAfterAbort++;
            if (seen === 3) {
              controller.abort();
              aborted = true;
            }
          }
          throw new ConformanceFailure('generation finished without an AbortError');
        } catch (error) {
          if (error instanceof ConformanceFailure) throw error;
          assert(AbortError.isInstance(error) && error.code === 'ABORTED', `expected AbortError, got ${String(error)}`);
        }
        assert(tokensAfterAbort <= 1, `${tokensAfterAbort} tokens arrived after abort`);
      },
    },
    {
      name: 'seeded-sampling',
      description: 'the same seed gives the same sampled text; different seeds can differ',
      async run() {
        const model = await loadFixture();
        const run = (seed: number) =>
          generateText({
            model,
            prompt: FIXTURE_PROMPT,
            maxTokens: 20,
            temperature: 1.2,
            topK: 0,
            topP: 1,
            minP: 0,
            seed,
            stopTokens: [],
          });
        const a = await run(42);
        const b = await run(42);
        assert(JSON.stringify(a.tokens) === JSON.stringify(b.tokens), 'same seed gave different tokens');
        const others = await Promise.all([run(1), run(2), run(3)]);
        assert(
          others.some((o) => JSON.stringify(o.tokens) !== JSON.stringify(a.tokens)),
          'four different seeds gave identical samples',
        );
      },
    },
    {
      name: 'bad-input',
      description: 'out-of-vocabulary ids and context overflow give typed errors and leave the sequence usable',
      async run() {
        const model = await loadFixture();
        const sequence = await model.createSequence();
        try {
          await expectError(
            () => sequence.forward([model.spec.vocabSize + 5]),
            (e) => SlmError.isInstance(e) && e.code === 'INVALID_ARGUMENT',
            'out-of-vocabulary id',
          );
          await expectError(
            () => sequence.forward([-1]),
            (e) => e instanceof InvalidArgumentError || (SlmError.isInstance(e) && e.code === 'INVALID_ARGUMENT'),
            'negative id',
          );
          const tooMany = new Array(sequence.contextSize + 1).fill(5);
          await expectError(
            () => sequence.forward(tooMany),
            (e) => e instanceof ContextOverflowError || (SlmError.isInstance(e) && e.code === 'CONTEXT_OVERFLOW'),
            'context overflow',
          );
          assert(sequence.tokens.length === 0, 'a failed forward changed the cache');
          const logits = await sequence.forward([model.tokenizer.special.bos ?? 1, 5]);
          assert(logits.rows === 1 && logits.last().every(Number.isFinite), 'sequence unusable after errors');
          await expectError(
            () => generateText({ model, prompt: new Array(model.contextSize + 10).fill(5), maxTokens: 1 }),
            (e) => SlmError.isInstance(e) && e.code === 'CONTEXT_OVERFLOW',
            'prompt longer than the context',
          );
        } finally {
          await sequence.dispose();
        }
      },
    },
    {
      name: 'embeddings',
      description: `embed (mean and last pooling) agrees with the reference backend to cosine >= ${EMBEDDING_MIN_COSINE}`,
      async run() {
        const b = await backend();
        assert(
          b.capabilities.embeddings,
          `capabilities.embeddings is false: list 'embeddings' as an exclusion with the reason`,
        );
        const texts = [`${FIXTURE_PROMPT} jumps over the lazy dog`, 'zz top'];
        const reference = createReferenceBackend();
        const referenceFixture = await reference.load(fixture);
        try {
          await checkEmbeddings(await loadFixture(), referenceFixture, texts);
        } finally {
          await referenceFixture.dispose();
        }
        if (!stories) return;
        const input = target.prepareStories260K
          ? await target.prepareStories260K(stories)
          : { path: stories.model, tokenizerPath: stories.tokenizer };
        const model = await b.load(input);
        const referenceModel = await reference.load({ path: stories.model, tokenizerPath: stories.tokenizer });
        try {
          await checkEmbeddings(model, referenceModel, ['Once upon a time, there was a little girl', 'The cat sat']);
        } finally {
          await model.dispose();
          await referenceModel.dispose();
        }
      },
    },
    {
      name: 'dispose',
      description: 'a disposed model can be loaded again',
      async run() {
        const input = target.prepareFixture ? await target.prepareFixture(fixture) : fixture;
        const b = await backend();
        const first = await b.load(input);
        await first.dispose();
        const second = await b.load(input);
        const result = await generateText({
          model: second,
          prompt: FIXTURE_PROMPT,
          maxTokens: 4,
          temperature: 0,
          stopTokens: [],
        });
        assert(result.tokens.length === 4, 'reloaded model did not generate');
        await second.dispose();
      },
    },
  ];
  return cases.map((c) => {
    const excluded = target.exclusions?.[c.name];
    if (!excluded) return c;
    if (c.name === 'embeddings') return excludedEmbeddings(c, excluded, backend, loadFixture);
    return { ...c, skip: `excluded: ${excluded}` };
  });
}

/**
 * An excluded `embeddings` case still runs: it checks the exclusion is honest (the backend does not claim the
 * capability and its LoadedModel has no `embed`), so a backend cannot both claim embeddings and skip the checks.
 */
function excludedEmbeddings(
  c: ConformanceCase,
  reason: string,
  backend: () => Promise<Backend>,
  loadFixture: () => Promise<LoadedModel>,
): ConformanceCase {
  return {
    ...c,
    description: `excluded (${reason}): the backend does not claim embeddings and its models have no embed`,
    async run() {
      const b = await backend();
      assert(!b.capabilities.embeddings, `'embeddings' is excluded but capabilities.embeddings is true`);
      const model = await loadFixture();
      assert(model.embed === undefined, `'embeddings' is excluded but the LoadedModel has an embed method`);
    },
  };
}

/** The subset of a test framework the suite needs (vitest, jest, node:test, mocha all fit). */
export interface TestHarness {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  skip?: (name: string, fn: () => Promise<void>) => void;
  afterAll?(fn: () => Promise<void>): void;
}

/** Registers the conformance cases for `target` with a test framework. */
export function runConformanceSuite(harness: TestHarness, target: ConformanceTarget): void {
  harness.describe(`conformance: ${target.name}`, () => {
    for (const c of conformanceCases(target)) {
      const title = `${c.name}: ${c.description}`;
      if (c.skip && harness.skip) harness.skip(`${title} (${c.skip})`, c.run);
      else if (!c.skip) harness.it(title, c.run, 300_000);
    }
  });
}
