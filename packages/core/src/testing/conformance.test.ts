import { describe, expect, it } from 'vitest';
import type { Backend, LoadedModel, ModelInput } from '../model/backend.js';
import { type ConformanceTarget, conformanceCases } from './conformance.js';
import { createReferenceBackend } from './reference-backend.js';

/** The reference backend with its capabilities or its models' `embed` changed, to test the suite's own checks. */
function alteredReference(change: { embeddings: boolean; dropEmbed: boolean }): Backend {
  const inner = createReferenceBackend();
  return {
    specificationVersion: inner.specificationVersion,
    name: 'altered-reference',
    capabilities: { ...inner.capabilities, embeddings: change.embeddings },
    async load(input: ModelInput): Promise<LoadedModel> {
      const model = await inner.load(input);
      if (!change.dropEmbed) return model;
      return {
        spec: model.spec,
        tokenizer: model.tokenizer,
        contextSize: model.contextSize,
        info: model.info,
        createSequence: (options) => model.createSequence(options),
        dispose: () => model.dispose(),
      };
    },
    dispose: () => inner.dispose(),
  };
}

function embeddingsCase(target: ConformanceTarget) {
  const found = conformanceCases(target).find((c) => c.name === 'embeddings');
  if (!found) throw new Error('no embeddings case');
  return found;
}

describe('conformance suite: embeddings case', () => {
  it('passes on the reference backend and is not skipped', async () => {
    const c = embeddingsCase({ name: 'reference', createBackend: () => createReferenceBackend() });
    expect(c.skip).toBeUndefined();
    await c.run();
  });

  it('fails a backend that claims embeddings but has no embed method', async () => {
    const backend = alteredReference({ embeddings: true, dropEmbed: true });
    await expect(embeddingsCase({ name: 'x', createBackend: () => backend }).run()).rejects.toThrow(/no embed method/);
  });

  it('fails a backend without embeddings that does not list the exclusion', async () => {
    const backend = alteredReference({ embeddings: false, dropEmbed: true });
    await expect(embeddingsCase({ name: 'x', createBackend: () => backend }).run()).rejects.toThrow(/exclusion/);
  });

  it('an exclusion still checks that the backend neither claims embeddings nor has embed', async () => {
    const honest = embeddingsCase({
      name: 'x',
      createBackend: () => alteredReference({ embeddings: false, dropEmbed: true }),
      exclusions: { embeddings: 'no hidden states' },
    });
    await honest.run();
    const claims = embeddingsCase({
      name: 'x',
      createBackend: () => createReferenceBackend(),
      exclusions: { embeddings: 'no hidden states' },
    });
    await expect(claims.run()).rejects.toThrow(/capabilities.embeddings is true/);
    const hasMethod = embeddingsCase({
      name: 'x',
      createBackend: () => alteredReference({ embeddings: false, dropEmbed: false }),
      exclusions: { embeddings: 'no hidden states' },
    });
    await expect(hasMethod.run()).rejects.toThrow(/has an embed method/);
  });
});
