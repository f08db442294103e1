import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, DownloadError, InvalidArgumentError, NotFoundError } from '../errors/index.js';
import { modelDataToGguf } from '../formats/gguf-llama.js';
import { writeGguf } from '../formats/gguf-writer.js';
import { createRandomModel } from '../testing/random-model.js';
import { readNodeConfig } from './config.js';
import { downloadFile } from './download.js';
import { loadModelData } from './model-loader.js';
import { parseHfSource, resolveModelSource, selectHfFiles } from './model-source.js';

/** 200 KB of deterministic bytes. */
const body = Buffer.alloc(200_000);
for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 8)) & 0xff;
const sha = createHash('sha256').update(body).digest('hex');

interface Log {
  url: string;
  range?: string;
}
let log: Log[] = [];
const tinyModel = createRandomModel({ seed: 21 });
const tinyGguf = Buffer.from(writeGguf(modelDataToGguf(tinyModel)));
/** When set, the next request for /flaky sends this many bytes and then destroys the socket. */
let dropAfter: number | undefined;
/** When set, /slow waits for this promise between its two halves. */
let slowGate: Promise<void> | undefined;

function sendBody(req: IncomingMessage, res: ServerResponse, data: Buffer, extra: Record<string, string> = {}) {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (start > data.length) {
    res.writeHead(416).end();
    return undefined;
  }
  const headers: Record<string, string> = {
    'content-length': String(data.length - start),
    'accept-ranges': 'bytes',
    ...extra,
  };
  if (range) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
  res.writeHead(range ? 206 : 200, headers);
  return data.subarray(start);
}

function handler(req: IncomingMessage, res: ServerResponse) {
  const url = req.url ?? '';
  log.push({ url, range: req.headers.range });
  if (url === '/file.bin') {
    res.end(sendBody(req, res, body, { etag: `"${sha}"` }));
  } else if (url === '/flaky.bin') {
    const rest = sendBody(req, res, body);
    if (!rest) return;
    if (dropAfter !== undefined) {
      const n = dropAfter;
      dropAfter = undefined;
      res.write(rest.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 20));
    } else {
      res.end(rest);
    }
  } else if (url === '/slow.bin') {
    const rest = sendBody(req, res, body);
    if (!rest) return;
    res.write(rest.subarray(0, 1000));
    if (slowGate) void slowGate.then(() => res.end(rest.subarray(1000)));
    else res.end(rest.subarray(1000));
  } else if (url === '/ranges-ignored.bin') {
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  } else if (url === '/owner/repo/resolve/main/model.gguf') {
    // Hugging Face: the hub answers with a redirect that carries the LFS sha256, the CDN serves the bytes
    res
      .writeHead(302, {
        location: '/cdn/model.gguf',
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(body.length),
      })
      .end();
  } else if (url === '/cdn/model.gguf') {
    res.end(sendBody(req, res, body));
  } else if (url === '/owner/bad/resolve/main/model.gguf') {
    res.writeHead(302, { location: '/cdn/model.gguf', 'x-linked-etag': `"${'0'.repeat(64)}"` }).end();
  } else if (url === '/api/models/owner/folder/revision/main') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        siblings: ['config.json', 'tokenizer.json', 'model.safetensors', 'README.md', 'onnx/model.onnx'].map(
          (rfilename) => ({ rfilename }),
        ),
      }),
    );
  } else if (url.startsWith('/owner/folder/resolve/main/')) {
    res.end(sendBody(req, res, Buffer.from(`content of ${url.split('/').pop()}`)));
  } else if (url === '/owner/tiny/resolve/main/tiny.gguf') {
    res.end(sendBody(req, res, tinyGguf));
  } else {
    res.writeHead(404).end('not found');
  }
}

let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'slmkit-dl-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  log = [];
});

describe('downloadFile (local HTTP server on 127.0.0.1)', () => {
  it('downloads with progress and checks the size and sha256', async () => {
    const dest = join(dir, 'a', 'file.bin');
    const fractions: number[] = [];
    const result = await downloadFile(`${base}/file.bin`, dest, {
      expectedSha256: sha,
      expectedSize: body.length,
      onProgress: (p) => fractions.push(p.fraction ?? -1),
    });
    expect(result).toMatchObject({ bytes: body.length, sha256: sha, resumedBytes: 0 });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });

  it('resumes with a Range request after the connection drops', async () => {
    const dest = join(dir, 'flaky.bin');
    dropAfter = 70_000;
    const result = await downloadFile(`${base}/flaky.bin`, dest, { expectedSha256: sha });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(result.sha256).toBe(sha);
    expect(log.length).toBe(2);
    expect(log[0].range).toBeUndefined();
    const resumedFrom = Number(/bytes=(\d+)-/.exec(log[1].range ?? '')?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(70_000);
  });

  it('resumes a .partial file left by an earlier run, and starts over when the server ignores ranges', async () => {
    const dest = join(dir, 'resume.bin');
    writeFileSync(`${dest}.partial`, body.subarray(0, 123_456));
    const result = await downloadFile(`${base}/file.bin`, dest, { expectedSha256: sha });
    expect(result.resumedBytes).toBe(123_456);
    expect(log[0].range).toBe('bytes=123456-');
    expect(readFileSync(dest).equals(body)).toBe(true);
    const dest2 = join(dir, 'ignored.bin');
    writeFileSync(`${dest2}.partial`, Buffer.from('garbage'));
    await downloadFile(`${base}/ranges-ignored.bin`, dest2, { expectedSha256: sha });
    expect(readFileSync(dest2).equals(body)).toBe(true);
  });

  it('rejects a checksum or size mismatch and deletes the partial file', async () => {
    const dest = join(dir, 'bad-sha.bin');
    const error = await downloadFile(`${base}/file.bin`, dest, { expectedSha256: 'f'.repeat(64) }).catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.field).toBe('sha256');
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);
    await expect(downloadFile(`${base}/file.bin`, join(dir, 'bad-size.bin'), { expectedSize: 5 })).rejects.toThrow(
      /expected 5/,
    );
    await expect(downloadFile(`${base}/file.bin`, dest, { expectedSha256: 'xyz' })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('reports HTTP errors and unreachable servers as DownloadError', async () => {
    const error = await downloadFile(`${base}/missing.bin`, join(dir, 'missing.bin')).catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.message).toMatch(/HTTP 404/);
    expect(error.value).toBe(404);
    await expect(downloadFile('http://127.0.0.1:1/x.bin', join(dir, 'x.bin'), { retries: 0 })).rejects.toThrow(
      DownloadError,
    );
  });

  it('aborts with AbortError and keeps the partial file for a later resume', async () => {
    const dest = join(dir, 'slow.bin');
    let open!: () => void;
    slowGate = new Promise((resolve) => {
      open = resolve;
    });
    const controller = new AbortController();
    const pending = downloadFile(`${base}/slow.bin`, dest, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.receivedBytes >= 1000) controller.abort();
      },
    });
    await expect(pending).rejects.toThrow(AbortError);
    open();
    expect(existsSync(dest)).toBe(false);
    expect(readFileSync(`${dest}.partial`).length).toBe(1000);
    slowGate = undefined;
    const result = await downloadFile(`${base}/slow.bin`, dest, { expectedSha256: sha });
    expect(result.resumedBytes).toBe(1000);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });
});

describe('resolveModelSource', () => {
  it('downloads hf:<owner>/<repo>/<file> through a redirect, checking the sha256 from x-linked-etag, then uses the cache', async () => {
    const cacheDir = join(dir, 'cache1');
    const first = await resolveModelSource('hf:owner/repo/model.gguf', { cacheDir, hfEndpoint: base });
    expect(first.path).toBe(join(cacheDir, 'hf', 'owner', 'repo', 'main', 'model.gguf'));
    expect(first.downloaded).toEqual([first.path]);
    expect(log.map((l) => l.url)).toEqual(['/owner/repo/resolve/main/model.gguf', '/cdn/model.gguf']);
    expect(readFileSync(first.path).equals(body)).toBe(true);
    log = [];
    const again = await resolveModelSource('hf:owner/repo/model.gguf', { cacheDir, hfEndpoint: base });
    expect(again.cached).toEqual([first.path]);
    expect(log).toEqual([]);
    await expect(resolveModelSource('hf:owner/bad/model.gguf', { cacheDir, hfEndpoint: base })).rejects.toThrow(
      /sha256/,
    );
  });

  it('downloads the files an HF folder needs, listed by the hub API', async () => {
    const cacheDir = join(dir, 'cache2');
    const result = await resolveModelSource('hf:owner/folder', { cacheDir, hfEndpoint: base });
    expect(result.path).toBe(join(cacheDir, 'hf', 'owner', 'folder', 'main'));
    expect(result.downloaded.map((p) => p.split('/').pop())).toEqual([
      'config.json',
      'tokenizer.json',
      'model.safetensors',
    ]);
    expect(readFileSync(join(result.path, 'config.json'), 'utf8')).toBe('content of config.json');
  });

  it('downloads https/http URLs into the cache and passes local paths through', async () => {
    const cacheDir = join(dir, 'cache3');
    const progress: string[] = [];
    const result = await resolveModelSource(`${base}/file.bin`, { cacheDir, onProgress: (p) => progress.push(p.file) });
    expect(result.kind).toBe('url');
    expect(result.path.endsWith('file.bin')).toBe(true);
    expect(progress.at(-1)).toBe('file.bin');
    expect(readFileSync(result.path).equals(body)).toBe(true);
    expect(await resolveModelSource(result.path)).toMatchObject({ kind: 'local', path: result.path });
    // a cache hit is checked against an expected sha256; a corrupted cached file is fetched again
    writeFileSync(result.path, 'corrupted');
    log = [];
    const again = await resolveModelSource(`${base}/file.bin`, { cacheDir, expectedSha256: sha });
    expect(again.downloaded).toEqual([result.path]);
    expect(readFileSync(result.path).equals(body)).toBe(true);
    await expect(
      resolveModelSource(`${base}/file.bin`, { cacheDir, expectedSha256: '0'.repeat(64), force: true }),
    ).rejects.toThrow(DownloadError);
    await expect(resolveModelSource(join(dir, 'nope.gguf'))).rejects.toThrow(NotFoundError);
    await expect(resolveModelSource('ftp://example.com/x')).rejects.toThrow(InvalidArgumentError);
  });

  it('lets loadModelData open an hf: source (downloaded into the cache first)', async () => {
    const data = await loadModelData('hf:owner/tiny/tiny.gguf', { cacheDir: join(dir, 'cache4'), hfEndpoint: base });
    expect(data.spec.vocabSize).toBe(300);
    expect(data.weights.float32('blk.1.attn_v.weight')).toEqual(tinyModel.weights.float32('blk.1.attn_v.weight'));
    expect(existsSync(join(dir, 'cache4', 'hf', 'owner', 'tiny', 'main', 'tiny.gguf'))).toBe(true);
  });

  it('sends credentials to the hub but not to another host it redirects to', async () => {
    const seen: Array<string | undefined> = [];
    const cdn = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end(sendBody(req, res, body));
    });
    await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
    const hub = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(302, { location: `http://127.0.0.1:${(cdn.address() as AddressInfo).port}/blob` }).end();
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
      await resolveModelSource('hf:o/r/f.bin', {
        cacheDir: join(dir, 'cache5'),
        hfEndpoint: endpoint,
        headers: { authorization: 'Bearer t' },
      });
      expect(seen).toEqual(['Bearer t', undefined]);
    } finally {
      for (const server of [cdn, hub]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('parses and validates hf sources and file selections', () => {
    expect(parseHfSource('hf:a/b')).toEqual({ owner: 'a', repo: 'b', revision: 'main', file: undefined });
    expect(parseHfSource('hf:a/b@v1.0/sub/x.gguf')).toEqual({
      owner: 'a',
      repo: 'b',
      revision: 'v1.0',
      file: 'sub/x.gguf',
    });
    for (const bad of ['hf:a', 'hf:/b', 'hf:a/b/../x', 'hf:a/b//x', 'hf:../b/x', 'hf:a/b@/x']) {
      expect(() => parseHfSource(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(() => selectHfFiles(['a.gguf', 'b.gguf'], 's')).toThrow(/name one/);
    expect(selectHfFiles(['x/q.gguf', 'README.md'], 's')).toEqual(['x/q.gguf']);
    expect(() => selectHfFiles(['README.md'], 's')).toThrow(NotFoundError);
  });

  it('reads the cache dir and hub endpoint from the environment in config.ts', () => {
    expect(readNodeConfig({ SLMKIT_CACHE_DIR: '/tmp/c', SLMKIT_HF_ENDPOINT: 'http://h:1/' })).toEqual({
      cacheDir: '/tmp/c',
      hfEndpoint: 'http://h:1',
    });
    expect(readNodeConfig({}).cacheDir.endsWith(join('.cache', 'slmkit'))).toBe(true);
    expect(readNodeConfig({}).hfEndpoint).toBe('https://huggingface.co');
    expect(readNodeConfig({ HF_TOKEN: 'a' }).hfToken).toBe('a');
    expect(readNodeConfig({ HF_TOKEN: 'a', SLMKIT_HF_TOKEN: 'b' }).hfToken).toBe('b');
    expect(readNodeConfig({}).hfToken).toBeUndefined();
  });
});
