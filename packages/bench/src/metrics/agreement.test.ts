import { generateText, type LoadedModel, type ModelData } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';
import { pooledAgreement, tokenAgreement } from './agreement.js';

describe('tokenAgreement', () => {
  it('counts identical positions and the common prefix', () => {
    expect(tokenAgreement([1, 2, 3, 4], [1, 2, 3, 4])).toEqual({
      tokenAgreement: 1,
      prefixAgreement: 1,
      firstDivergence: null,
      compared: 4,
    });
    expect(tokenAgreement([1, 2, 3, 4], [1, 9, 3, 4])).toMatchObject({
      tokenAgreement: 0.75,
      prefixAgreement: 0.25,
      firstDivergence: 1,
    });
    expect(tokenAgreement([1, 2], [1, 2, 3, 4])).toMatchObject({ tokenAgreement: 0.5, firstDivergence: 2 });
    expect(
      pooledAgreement([
        [
          [1, 2],
          [1, 2],
        ],
        [
          [1, 2],
          [3, 4],
        ],
      ]),
    ).toMatchObject({ tokenAgreement: 0.5, prefixAgreement: 0.5 });
    expect(() => tokenAgreement([], [])).toThrow(/empty/);
  });

  async function agreementWithBrokenRope(good: ModelData, maxTokens: number) {
    // The same weights read with the other RoPE pairing: what a backend with a layout bug computes.
    const broken = {
      ...good,
      spec: {
        ...good.spec,
        ropeLayout: good.spec.ropeLayout === 'adjacent' ? ('half' as const) : ('adjacent' as const),
      },
    };
    const backend = createReferenceBackend();
    const models: LoadedModel[] = [];
    try {
      for (const d of [good, broken, good]) models.push(await backend.load(d));
      const prompts = ['Once upon a time', 'The dog ran'];
      const run = async (m: LoadedModel) =>
        Promise.all(
          prompts.map(
            async (p) =>
              (await generateText({ model: m, prompt: p, maxTokens, temperature: 0, stopTokens: [] })).tokens,
          ),
        );
      const [ta, tb, tc] = [await run(models[0]), await run(models[1]), await run(models[2])];
      return {
        same: pooledAgreement(ta.map((t, i) => [t, tc[i]] as const)).tokenAgreement,
        broken: pooledAgreement(ta.map((t, i) => [t, tb[i]] as const)).tokenAgreement,
      };
    } finally {
      for (const m of models) await m.dispose();
      await backend.dispose();
    }
  }

  it('catches a backend that applies RoPE in the wrong layout (random model)', async () => {
    const r = await agreementWithBrokenRope(createRandomModel({ seed: 11, contextLength: 128 }), 40);
    expect(r.same).toBe(1);
    expect(r.broken).toBeLessThan(1);
  });

  const paths = stories260KPaths();
  it.skipIf(!paths)(
    `catches a backend that applies RoPE in the wrong layout (stories260K)${paths ? '' : ` — ${SHARED_MISSING_REASON}`}`,
    async () => {
      if (!paths) return;
      const r = await agreementWithBrokenRope(
        await loadModelData({ path: paths.model, tokenizerPath: paths.tokenizer }),
        40,
      );
      expect(r.same).toBe(1);
      expect(r.broken).toBeLessThan(0.5);
    },
  );
});
