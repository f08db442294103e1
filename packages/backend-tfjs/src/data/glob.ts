import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const MAGIC = /[*?[{]/;

export function hasGlobMagic(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Translates a glob (`*`, `**`, `?`, `[abc]`, `{a,b}`) over `/`-separated paths into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        re += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Splits a glob into the folder to walk (no magic) and the pattern below it. */
export function globBase(pattern: string): { base: string; rest: string } {
  const parts = pattern.split('/');
  const first = parts.findIndex((p) => hasGlobMagic(p));
  if (first < 0) return { base: pattern, rest: '' };
  const baseParts = parts.slice(0, first);
  const base = baseParts.length === 0 ? '.' : baseParts.join('/') || '/';
  return { base, rest: parts.slice(first).join('/') };
}

/** Every file under `dir` (sorted, depth-first; hidden entries and node_modules skipped unless `includeHidden`). */
export async function* walkFiles(dir: string, includeHidden = false): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (!includeHidden && (entry.name.startsWith('.') || entry.name === 'node_modules')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(path, includeHidden);
    else if (entry.isFile()) yield path;
  }
}

/** Files matching a glob, relative to `cwd` unless the pattern is absolute; sorted. */
export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const normalized = pattern.split(sep).join('/');
  const { base, rest } = globBase(normalized);
  const root = base.startsWith('/') ? base : join(cwd, base);
  const regex = globToRegExp(rest);
  const out: string[] = [];
  try {
    for await (const file of walkFiles(root, rest.startsWith('.'))) {
      if (regex.test(relative(root, file).split(sep).join('/'))) out.push(file);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return out;
}
