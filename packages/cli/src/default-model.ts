import { InvalidArgumentError, type ModelFiles } from '@slmkit/core';

/**
 * The model `slm generate` / `slm chat` use when no --model is given: slmkit's own default model, once it ships.
 * Until then the user must name a model.
 */
export function defaultModel(): ModelFiles | undefined {
  return undefined;
}

export function requireModel(path: string | undefined, tokenizerPath: string | undefined): ModelFiles {
  if (path !== undefined) return tokenizerPath === undefined ? { path } : { path, tokenizerPath };
  const fallback = defaultModel();
  if (fallback) return fallback;
  throw new InvalidArgumentError(
    'no model given: pass --model <path> (a GGUF file, a llama2.c .bin with --tokenizer, or a model folder)',
    {
      field: '--model',
    },
  );
}
