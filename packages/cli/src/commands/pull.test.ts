import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.test-helpers.js';

const payload = Buffer.alloc(50_000, 7);
let server: Server;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'slm-pull-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/m/tiny.gguf') res.writeHead(200, { 'content-length': String(payload.length) }).end(payload);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('slm pull (local HTTP server on 127.0.0.1)', () => {
  it('downloads into --cache-dir, prints only the path on stdout and progress on stderr', async () => {
    const run = await runCli(['pull', `${base}/m/tiny.gguf`, '--cache-dir', dir]);
    expect(run.code).toBe(0);
    const path = run.stdout.trim();
    expect(path.startsWith(dir)).toBe(true);
    expect(readFileSync(path).equals(payload)).toBe(true);
    expect(run.stderr).toMatch(/tiny\.gguf .*100\.0%/);
    const json = await runCli(['pull', `${base}/m/tiny.gguf`, '--cache-dir', dir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ path, kind: 'url', downloaded: [], cached: [path] });
  });

  it('checks --sha256', async () => {
    const run = await runCli([
      'pull',
      `${base}/m/tiny.gguf`,
      '--cache-dir',
      dir,
      '--force',
      '--sha256',
      '0'.repeat(64),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/sha256/);
    expect(run.stdout).toBe('');
  });

  it('fails with a typed message on a 404', async () => {
    const run = await runCli(['pull', `${base}/m/missing.gguf`, '--cache-dir', dir]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/HTTP 404/);
  });
});
