import { existsSync } from 'node:fs';
import type { LoadedModel } from '@slmkit/core';
import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import type { ServedModelOptions } from '../server/served-model.js';

/**
 * The model the demo's tests serve: stories260K from ../shared on the reference backend when present, else core's
 * random tiny model (a user's fresh clone), so the server tests always run.
 */
export async function loadTestModel(): Promise<{ model: LoadedModel; options: Omit<ServedModelOptions, 'model'> }> {
  const paths = stories260KPaths();
  const backend = createReferenceBackend();
  if (paths && existsSync(paths.model)) {
    const model = await backend.load({ path: paths.model, tokenizerPath: paths.tokenizer });
    return { model, options: { id: 'stories260K', files: { model: paths.model, tokenizer: paths.tokenizer } } };
  }
  const model = await backend.load(createRandomModel({ seed: 3, contextLength: 256 }));
  return { model, options: { id: 'random-tiny' } };
}
