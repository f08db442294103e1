import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type ModelFiles } from '@slmkit/core';

/**
 * slmkit's own default model: a ~1M-parameter Llama trained by `slm train --recipe default` and shipped in
 * @slmkit/backend-tfjs (`models/default/`, a Hugging Face folder). `slm generate`, `slm chat` and `slm serve` use it
 * when no --model is given.
 */
export function defaultModel(): ModelFiles {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@slmkit/backend-tfjs/package.json');
  return { path: join(dirname(manifest), 'models', 'default') };
}

export function requireModel(path: string | undefined, tokenizerPath: string | undefined): ModelFiles {
  if (path !== undefined) return tokenizerPath === undefined ? { path } : { path, tokenizerPath };
  if (tokenizerPath !== undefined) {
    throw new InvalidArgumentError('--tokenizer needs --model (the default model carries its own tokenizer)', {
      field: '--tokenizer',
    });
  }
  return defaultModel();
}
