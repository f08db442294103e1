import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateText } from '../generation/generate.js';
import { convertRopeLayout } from '../model/rope-layout.js';
import { runConformanceSuite } from './conformance.js';
import { goldenContinuations } from './goldens.js';
import { createRandomModel } from './random-model.js';
import { createReferenceBackend } from './reference-backend.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from './shared-data.js';

runConformanceSuite(
  { describe, it, skip: it.skip },
  { name: 'reference', createBackend: () => createReferenceBackend() },
);

/** The continuation llama2.c printed, as ../shared/README.md gives it (an independent source for the golden). */
function readmeReference(): { prompt: string; continuation: string } | undefined {
  const readme = sharedPath('README.md');
  if (!readme) return undefined;
  const text = readFileSync(readme, 'utf8');
  const block = /prints:\s*\n\s*```\n([\s\S]*?)\n\s*```/.exec(text);
  if (!block) throw new Error('could not find the reference block in ../shared/README.md');
  const printed = block[1]
    .split('\n')
    .map((line) => line.replace(/^ {2}/, ''))
    .join('\n');
  const prompt = 'Once upon a time';
  return { prompt, continuation: printed.slice(prompt.length) };
}

describe('reference backend on stories260K', () => {
  const paths = stories260KPaths();
  it.skipIf(!paths)(
    `reproduces the llama2.c reference text of ../shared/README.md ${paths ? '' : SHARED_MISSING_REASON}`,
    async () => {
      const reference = readmeReference();
      const backend = createReferenceBackend();
      const model = await backend.load({ path: paths!.model, tokenizerPath: paths!.tokenizer });
      const result = await generateText({ model, prompt: reference!.prompt, maxTokens: 200, temperature: 0 });
      // llama2.c ran 64 positions in total; our continuation may run longer, so compare its prefix.
      expect(result.text.startsWith(reference!.continuation)).toBe(true);
      expect(goldenContinuations.stories260K.text).toBe(reference!.continuation);
      await model.dispose();
    },
  );
});

describe('RoPE layouts', () => {
  it('a model converted to the half (HF) layout gives the same logits as the adjacent original', async () => {
    const data = createRandomModel({ seed: 3 });
    const half = { ...data, ...convertRopeLayout(data.spec, data.weights, 'half') };
    expect(half.spec.ropeLayout).toBe('half');
    const backend = createReferenceBackend();
    const a = await backend.load(data);
    const b = await backend.load(half);
    const ids = data.tokenizer.encode('rope layouts agree');
    const la = (await (await a.createSequence()).forward(ids)).last();
    const lb = (await (await b.createSequence()).forward(ids)).last();
    let diff = 0;
    for (let i = 0; i < la.length; i++) diff = Math.max(diff, Math.abs(la[i] - lb[i]));
    expect(diff).toBeLessThan(1e-4);
    // and the half-layout weights read as adjacent would be wrong: the layout flag matters
    const wrong = await backend.load({ ...half, spec: { ...half.spec, ropeLayout: 'adjacent' } });
    const lw = (await (await wrong.createSequence()).forward(ids)).last();
    let wrongDiff = 0;
    for (let i = 0; i < la.length; i++) wrongDiff = Math.max(wrongDiff, Math.abs(la[i] - lw[i]));
    expect(wrongDiff).toBeGreaterThan(1e-2);
  });
});

describe('embeddings', () => {
  it('embed returns a unit vector that depends on the text', async () => {
    const data = createRandomModel({ seed: 4 });
    const model = await createReferenceBackend().load(data);
    const a = await model.embed!(data.tokenizer.encode('hello world'));
    const b = await model.embed!(data.tokenizer.encode('a different text'));
    const norm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 5);
    const cos = a.reduce((s, x, i) => s + x * b[i], 0);
    expect(cos).toBeLessThan(0.9999);
  });
});
