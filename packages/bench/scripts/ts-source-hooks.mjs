// Module hooks that let a child process run slmkit's TypeScript sources directly (tests and `pnpm bench` from a
// source checkout): `.js` specifiers fall back to the `.ts` file beside them, and `.ts` files are transpiled with
// the TypeScript compiler (types dropped, no type check). Workspace packages resolve to `src/index.ts` through the
// "source" export condition, which the parent passes as `--conditions=source`.
// Transpiled output is cached under the OS temp folder (keyed by path, size and mtime), and the TypeScript compiler
// is loaded only on a cache miss, so a forked worker starts in a fraction of a second.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE_DIR = join(tmpdir(), 'slmkit-ts-source-cache');
let compiler;

async function transpile(fileName, source) {
  compiler ??= (await import('typescript')).default;
  const ts = compiler;
  return ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
    },
  }).outputText;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
    if (relative && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      return next(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const fileName = fileURLToPath(url);
    const info = await stat(fileName);
    const key = createHash('sha1').update(`${fileName}\0${info.size}\0${info.mtimeMs}`).digest('hex');
    const cached = join(CACHE_DIR, `${key}.mjs`);
    let outputText;
    try {
      outputText = await readFile(cached, 'utf8');
    } catch {
      outputText = await transpile(fileName, await readFile(fileName, 'utf8'));
      await mkdir(CACHE_DIR, { recursive: true });
      const partial = `${cached}.${process.pid}.tmp`;
      await writeFile(partial, outputText);
      await rename(partial, cached);
    }
    return { format: 'module', source: outputText, shortCircuit: true };
  }
  return next(url, context);
}
