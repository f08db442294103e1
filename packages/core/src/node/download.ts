import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AbortError, DownloadError, InvalidArgumentError, SlmError, throwIfAborted } from '../errors/index.js';

/** Attempts after a dropped connection before giving up (each resumes where the last stopped). */
export const DEFAULT_DOWNLOAD_RETRIES = 3;
const MAX_REDIRECTS = 10;

export interface DownloadProgress {
  url: string;
  /** Bytes on disk so far (resumed bytes included). */
  receivedBytes: number;
  /** Total bytes, when the server says. */
  totalBytes?: number;
  /** 0..1, when the total is known. */
  fraction?: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Expected size in bytes; a mismatch is a DownloadError. */
  expectedSize?: number;
  /** Expected sha256 (hex); a mismatch is a DownloadError and the partial file is deleted. */
  expectedSha256?: string;
  /**
   * Trust a 64-hex `x-linked-etag` / `etag` header as the file's sha256 (Hugging Face serves LFS files so).
   * Default false.
   */
  etagIsSha256?: boolean;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** Resumes after dropped connections this many times. Default 3. */
  retries?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already on disk in `<path>.partial` and were not fetched again. */
  resumedBytes: number;
}

interface ResponseFacts {
  response: Response;
  /** sha256 from the first response of a redirect chain (HF puts it on the redirect). */
  linkedSha256?: string;
  linkedSize?: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function etagSha256(headers: Headers): string | undefined {
  for (const name of ['x-linked-etag', 'etag']) {
    const raw = headers.get(name);
    if (!raw) continue;
    const value = raw.replace(/^W\//, '').replaceAll('"', '').trim().toLowerCase();
    if (SHA256_HEX.test(value)) return value;
  }
  return undefined;
}

function abortError(signal: AbortSignal | undefined, cause: unknown): AbortError {
  return new AbortError('The download was aborted', { cause: signal?.reason ?? cause });
}

async function request(
  url: string,
  requestHeaders: Record<string, string>,
  options: DownloadOptions,
): Promise<ResponseFacts> {
  let headers = requestHeaders;
  let current = url;
  let linkedSha256: string | undefined;
  let linkedSize: number | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await fetch(current, { headers, redirect: 'manual', signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal, error);
      throw new DownloadError(`request failed: ${(error as Error).message}`, { file: current, cause: error });
    }
    if (options.etagIsSha256) linkedSha256 ??= etagSha256(response.headers);
    const size = Number(response.headers.get('x-linked-size'));
    if (linkedSize === undefined && Number.isSafeInteger(size) && size > 0) linkedSize = size;
    if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
      await response.body?.cancel();
      const next = new URL(response.headers.get('location') ?? '', current);
      // Never forward credentials to another host (the hub redirects to a CDN)
      if (next.origin !== new URL(current).origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([h]) => h.toLowerCase() !== 'authorization'));
      }
      current = next.toString();
      continue;
    }
    return { response, linkedSha256, linkedSize };
  }
  throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`, { file: url });
}

async function hashFile(path: string, hash: Hash, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Thrown inside one attempt when the connection dropped; the caller resumes. */
class DroppedConnection extends Error {}

/**
 * Downloads `url` to `dest`: bytes go to `<dest>.partial`, resumed with an HTTP Range request when it exists (after a
 * dropped connection, an abort or an earlier run), checked against the expected size and sha256, then renamed to
 * `dest`. Errors are typed: DownloadError (HTTP status, size or checksum mismatch, network), AbortError.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (options.expectedSha256 !== undefined && !SHA256_HEX.test(options.expectedSha256.toLowerCase())) {
    throw new InvalidArgumentError('expectedSha256 must be 64 hex digits', {
      field: 'expectedSha256',
      value: options.expectedSha256,
    });
  }
  const partial = `${dest}.partial`;
  await mkdir(dirname(dest), { recursive: true });
  const retries = options.retries ?? DEFAULT_DOWNLOAD_RETRIES;
  const initialPartial = await fileSize(partial);
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(options.signal, 'The download');
    try {
      const result = await attempt_(url, dest, partial, options);
      return { ...result, resumedBytes: initialPartial > 0 ? Math.min(initialPartial, result.bytes) : 0 };
    } catch (error) {
      if (error instanceof DroppedConnection && attempt < retries) continue;
      if (error instanceof DroppedConnection) {
        throw new DownloadError(`connection dropped ${retries + 1} times; run again to resume`, {
          file: url,
          cause: error.cause,
        });
      }
      throw error;
    }
  }
}

async function attempt_(
  url: string,
  dest: string,
  partial: string,
  options: DownloadOptions,
): Promise<Omit<DownloadResult, 'resumedBytes'>> {
  const signal = options.signal;
  let have = await fileSize(partial);
  const headers: Record<string, string> = { ...options.headers };
  if (have > 0) headers.range = `bytes=${have}-`;
  const { response, linkedSha256, linkedSize } = await request(url, headers, options);
  if (response.status === 416 && have > 0) {
    // The partial file is not a prefix the server can continue (changed file, or already complete): start over
    await response.body?.cancel();
    await rm(partial, { force: true });
    throw new DroppedConnection('range not satisfiable');
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new DownloadError(`server answered HTTP ${response.status} ${response.statusText}`.trim(), {
      file: url,
      value: response.status,
    });
  }
  let total: number | undefined;
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await response.body?.cancel();
      await rm(partial, { force: true });
      throw new DroppedConnection('unexpected content-range');
    }
    if (range[3] !== '*') total = Number(range[3]);
  } else {
    have = 0; // the server ignored the range: start over
    const length = Number(response.headers.get('content-length'));
    if (response.headers.has('content-length') && Number.isSafeInteger(length)) total = length;
  }
  total ??= linkedSize;
  const expectedSize = options.expectedSize ?? total;
  if (options.expectedSize !== undefined && total !== undefined && total !== options.expectedSize) {
    await response.body?.cancel();
    throw new DownloadError(`server reports ${total} bytes, expected ${options.expectedSize}`, {
      file: url,
      field: 'size',
      value: total,
    });
  }
  const hash = createHash('sha256');
  if (have > 0) await hashFile(partial, hash, signal);
  const handle = await open(partial, have > 0 ? 'a' : 'w');
  let received = have;
  const report = () =>
    options.onProgress?.({
      url,
      receivedBytes: received,
      totalBytes: expectedSize,
      fraction: expectedSize ? Math.min(1, received / expectedSize) : undefined,
    });
  try {
    report();
    if (!response.body) throw new DownloadError('response has no body', { file: url });
    const reader = response.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw abortError(signal, error);
        throw new DroppedConnection('connection dropped', { cause: error });
      }
      if (chunk.done) break;
      await handle.write(chunk.value);
      hash.update(chunk.value);
      received += chunk.value.byteLength;
      if (expectedSize !== undefined && received > expectedSize) {
        throw new DownloadError(`received more than the expected ${expectedSize} bytes`, {
          file: url,
          field: 'size',
          value: received,
        });
      }
      report();
    }
  } catch (error) {
    await handle.close();
    if (SlmError.isInstance(error) && error.code === 'DOWNLOAD') await rm(partial, { force: true });
    throw error;
  }
  await handle.close();
  if (expectedSize !== undefined && received !== expectedSize) {
    // The body ended early without an error: treat as a dropped connection and resume
    throw new DroppedConnection(`body ended after ${received} of ${expectedSize} bytes`);
  }
  const sha256 = hash.digest('hex');
  const expectedSha = options.expectedSha256?.toLowerCase() ?? linkedSha256;
  if (expectedSha !== undefined && sha256 !== expectedSha) {
    await rm(partial, { force: true });
    throw new DownloadError(`sha256 ${sha256} does not match the expected ${expectedSha}`, {
      file: url,
      field: 'sha256',
      value: sha256,
    });
  }
  await rename(partial, dest);
  return { path: dest, bytes: received, sha256 };
}
