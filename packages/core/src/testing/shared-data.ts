import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Locates the project's `../shared` folder (third-party models and vectors kept beside the checkout).
 * `SLMKIT_SHARED_DIR` overrides the location. Returns undefined when absent, except under `CI=true`, where a
 * missing folder is an error: CI must never silently skip the tests that use it.
 */
export function findSharedDir(): string | undefined {
  const fromEnv = process.env.SLMKIT_SHARED_DIR;
  if (fromEnv) return resolve(fromEnv);
  let dir = process.cwd();
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      const shared = resolve(dir, '..', 'shared');
      if (existsSync(shared)) return shared;
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (process.env.CI === 'true') {
    throw new Error('../shared is missing; under CI=true the tests that read it must not be skipped');
  }
  return undefined;
}

/** Path of a file under ../shared, or undefined (with the reason in `skipReason`) when ../shared is absent. */
export function sharedPath(...parts: string[]): string | undefined {
  const dir = findSharedDir();
  return dir ? join(dir, ...parts) : undefined;
}

export const SHARED_MISSING_REASON = '../shared is absent (a user clone): skipping tests that need third-party models';

/** Paths of the stories260K model files, when ../shared is present. */
export function stories260KPaths():
  | { model: string; tokenizer: string; tokenizerModel: string; hfOnnx: string }
  | undefined {
  const dir = sharedPath('models');
  if (!dir) return undefined;
  return {
    model: join(dir, 'stories260K', 'stories260K.bin'),
    tokenizer: join(dir, 'stories260K', 'tok512.bin'),
    tokenizerModel: join(dir, 'stories260K', 'tok512.model'),
    hfOnnx: join(dir, 'stories260K-hf-onnx'),
  };
}
