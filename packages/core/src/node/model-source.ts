import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AbortError, DownloadError, InvalidArgumentError, NotFoundError } from '../errors/index.js';
import type { ModelFiles } from '../model/backend.js';
import { readNodeConfig } from './config.js';
import { type DownloadProgress, downloadFile } from './download.js';
import { pathExists } from './read-file.js';

export interface ResolveModelSourceOptions {
  /** Download cache; default `SLMKIT_CACHE_DIR` or ~/.cache/slmkit (see config.ts). */
  cacheDir?: string;
  /** Hugging Face hub base URL; default `SLMKIT_HF_ENDPOINT` or https://huggingface.co. */
  hfEndpoint?: string;
  /** Extra headers for every request (e.g. `authorization: Bearer hf_...`). */
  headers?: Record<string, string>;
  /** Download again even when the cache holds the file. Default false. */
  force?: boolean;
  /** Expected sha256 (hex) of a single-file source; checked on download and on a cache hit. */
  expectedSha256?: string;
  /** Expected size in bytes of a single-file source. */
  expectedSize?: number;
  signal?: AbortSignal;
  /** Progress of each file; `file` is its name within the source, `index`/`count` its place among the files. */
  onProgress?: (progress: DownloadProgress & { file: string; index: number; count: number }) => void;
}

export interface ResolvedModelSource {
  /** Local path to pass to loaders: a file, or a folder for multi-file sources. */
  path: string;
  kind: 'local' | 'hf' | 'url';
  /** Files fetched in this call (empty when everything was cached or local). */
  downloaded: string[];
  /** Files found already complete in the cache. */
  cached: string[];
}

export interface HfSource {
  owner: string;
  repo: string;
  revision: string;
  /** A file inside the repo, or undefined for the whole model. */
  file?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkRelativePath(file: string, source: string): string {
  const parts = file.split('/');
  if (file.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new InvalidArgumentError(`file path ${JSON.stringify(file)} must be relative, without "." or ".." parts`, {
      field: 'source',
      value: source,
    });
  }
  return file;
}

/** Parses `hf:<owner>/<repo>[@<revision>][/<file path>]`. */
export function parseHfSource(source: string): HfSource {
  const rest = source.slice('hf:'.length);
  const [owner, repoRev, ...fileParts] = rest.split('/');
  const [repo, revision = 'main', ...more] = (repoRev ?? '').split('@');
  if (!owner || !repo || !NAME.test(owner) || !NAME.test(repo) || more.length > 0 || !NAME.test(revision)) {
    throw new InvalidArgumentError('expected hf:<owner>/<repo>[@<revision>][/<file>]', {
      field: 'source',
      value: source,
    });
  }
  const file = fileParts.length > 0 ? checkRelativePath(fileParts.join('/'), source) : undefined;
  return { owner, repo, revision, file };
}

function hfFileUrl(endpoint: string, s: HfSource, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${s.owner}/${s.repo}/resolve/${encodeURIComponent(s.revision)}/${path}`;
}

/** Files of an HF model repo worth downloading for slmkit: config, tokenizer, weights (safetensors, or one GGUF). */
export function selectHfFiles(files: readonly string[], source: string): string[] {
  const top = files.filter((f) => !f.includes('/'));
  const safetensors = top.filter((f) => f.endsWith('.safetensors'));
  const ggufs = files.filter((f) => f.endsWith('.gguf'));
  const support = [
    'config.json',
    'generation_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'tokenizer.model',
  ];
  if (top.includes('config.json') && safetensors.length > 0) {
    const index = top.includes('model.safetensors.index.json') ? ['model.safetensors.index.json'] : [];
    return [...support.filter((f) => top.includes(f)), ...index, ...safetensors];
  }
  if (ggufs.length === 1) return ggufs;
  if (ggufs.length > 1) {
    throw new InvalidArgumentError(
      `the repo holds ${ggufs.length} GGUF files; name one: ${ggufs.slice(0, 8).join(', ')}`,
      { field: 'source', value: source },
    );
  }
  throw new NotFoundError('the repo holds neither config.json + *.safetensors nor a .gguf file', { file: source });
}

async function listHfFiles(
  endpoint: string,
  s: HfSource,
  options: ResolveModelSourceOptions,
  source: string,
): Promise<string[]> {
  const url = `${endpoint}/api/models/${s.owner}/${s.repo}/revision/${encodeURIComponent(s.revision)}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: options.headers, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw new AbortError('The download was aborted', { cause: error });
    throw new DownloadError(`cannot list the repo: ${(error as Error).message}`, { file: url, cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DownloadError(`listing the repo answered HTTP ${response.status}`, { file: url, value: response.status });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new DownloadError('the repo listing is not JSON', { file: url, cause: error });
  }
  const siblings = (body as { siblings?: unknown })?.siblings;
  if (!Array.isArray(siblings)) throw new DownloadError('the repo listing has no siblings list', { file: url });
  const names = siblings
    .map((x) => (x as { rfilename?: unknown })?.rfilename)
    .filter((n): n is string => typeof n === 'string');
  return selectHfFiles(names, source).map((f) => checkRelativePath(f, source));
}

async function cachedFileMatches(path: string, sha256: string | undefined, size: number | undefined): Promise<boolean> {
  if (size !== undefined && (await stat(path)).size !== size) return false;
  if (sha256 === undefined) return true;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex') === sha256.toLowerCase();
}

async function fetchInto(
  files: ReadonlyArray<{ url: string; dest: string; name: string }>,
  options: ResolveModelSourceOptions,
  etagIsSha256: boolean,
): Promise<{ downloaded: string[]; cached: string[] }> {
  const downloaded: string[] = [];
  const cached: string[] = [];
  const { expectedSha256, expectedSize } = options;
  if (files.length > 1 && (expectedSha256 !== undefined || expectedSize !== undefined)) {
    throw new InvalidArgumentError('an expected sha256 or size applies to a single-file source, not a folder', {
      field: 'expectedSha256',
    });
  }
  for (let index = 0; index < files.length; index++) {
    const { url, dest, name } = files[index];
    if (!options.force && (await pathExists(dest))) {
      if (await cachedFileMatches(dest, expectedSha256, expectedSize)) {
        cached.push(dest);
        continue;
      }
      await rm(dest, { force: true });
    }
    await downloadFile(url, dest, {
      signal: options.signal,
      headers: options.headers,
      etagIsSha256,
      expectedSha256,
      expectedSize,
      onProgress: (p) => options.onProgress?.({ ...p, file: name, index, count: files.length }),
    });
    downloaded.push(dest);
  }
  return { downloaded, cached };
}

/**
 * Turns a model source into a local path: a local file or folder as is; `hf:<owner>/<repo>[/<file>]` and
 * `http(s):` URLs downloaded into the cache (resumable, size- and sha256-checked). A complete file in the cache is
 * not fetched again unless `force` is set.
 */
export async function resolveModelSource(
  source: string,
  options: ResolveModelSourceOptions = {},
): Promise<ResolvedModelSource> {
  const config = readNodeConfig();
  const cacheDir = options.cacheDir ?? config.cacheDir;
  if (source.startsWith('hf:')) {
    const s = parseHfSource(source);
    const endpoint = (options.hfEndpoint ?? config.hfEndpoint).replace(/\/+$/, '');
    const hasAuth = Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
    if (config.hfToken && !hasAuth)
      options = { ...options, headers: { ...options.headers, authorization: `Bearer ${config.hfToken}` } };
    const root = join(cacheDir, 'hf', s.owner, s.repo, s.revision);
    const names = s.file ? [s.file] : await listHfFiles(endpoint, s, options, source);
    const files = names.map((name) => ({
      name,
      url: hfFileUrl(endpoint, s, name),
      dest: join(root, ...name.split('/')),
    }));
    const result = await fetchInto(files, options, true);
    const single = s.file !== undefined || (names.length === 1 && names[0].endsWith('.gguf'));
    return { path: single ? files[0].dest : root, kind: 'hf', ...result };
  }
  if (/^https?:\/\//i.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch (error) {
      throw new InvalidArgumentError('is not a valid URL', { field: 'source', value: source, cause: error });
    }
    const name = basename(decodeURIComponent(url.pathname)) || 'download';
    if (!NAME.test(name))
      throw new InvalidArgumentError(`URL file name ${JSON.stringify(name)} is not usable as a file name`, {
        field: 'source',
        value: source,
      });
    const key = createHash('sha256').update(url.toString()).digest('hex').slice(0, 16);
    const dest = join(cacheDir, 'url', key, name);
    const result = await fetchInto([{ name, url: url.toString(), dest }], options, false);
    return { path: dest, kind: 'url', ...result };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new InvalidArgumentError(
      'unsupported source scheme (use a path, hf:<owner>/<repo>[/<file>], http: or https:)',
      { field: 'source', value: source },
    );
  }
  if (!(await pathExists(source))) throw new NotFoundError('model path does not exist', { file: source });
  return { path: source, kind: 'local', downloaded: [], cached: [] };
}

/** True for sources `resolveModelSource` downloads: `hf:...`, `http://...`, `https://...`. */
export function isRemoteModelSource(source: string): boolean {
  return source.startsWith('hf:') || /^https?:\/\//i.test(source);
}

/**
 * Resolves the remote parts of model files (model path and tokenizer path) to cached local paths, downloading as
 * needed; local paths pass through unchanged. Backends and the CLI call this before reading files.
 */
export async function resolveModelFiles(
  files: ModelFiles,
  options: ResolveModelSourceOptions = {},
): Promise<ModelFiles> {
  const path = isRemoteModelSource(files.path) ? (await resolveModelSource(files.path, options)).path : files.path;
  const tokenizerPath =
    files.tokenizerPath !== undefined && isRemoteModelSource(files.tokenizerPath)
      ? (await resolveModelSource(files.tokenizerPath, options)).path
      : files.tokenizerPath;
  return tokenizerPath === undefined ? { path } : { path, tokenizerPath };
}
