import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const paths = stories260KPaths();
const haveModel = paths !== undefined && existsSync(paths.model);

describe.skipIf(!haveModel)('slm serve (stories260K from ../shared, reference backend)', () => {
  it('serves the OpenAI API on 127.0.0.1, offers the model file for on-device mode, and stops on Ctrl-C', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const url = new Promise<string>((resolve) => {
      let out = '';
      stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = out.match(/^(http:\/\/\S+)\n/);
        if (m) resolve(m[1]);
      });
    });
    const controller = new AbortController();
    const exit = main(
      ['serve', '--backend', 'reference', '--model', paths?.model as string, '--port', '0', '--api-key', 'k'],
      {
        stdout,
        stderr,
        stdin: new PassThrough(),
        signal: controller.signal,
      },
    );
    const base = await Promise.race([url, exit.then((code) => Promise.reject(new Error(`exited ${code}: ${err}`)))]);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const headers = { authorization: 'Bearer k', 'content-type': 'application/json' };
    const models = await (await fetch(`${base}/v1/models`, { headers })).json();
    expect(models.data[0].id).toBe('stories260K');
    expect(models.data[0].slmkit.files.model).toBe('/models/stories260K/model');
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content.length).toBeGreaterThan(0);
    expect((await fetch(`${base}/v1/models`)).status).toBe(401);
    const file = await fetch(`${base}/models/stories260K/model`);
    expect(file.status).toBe(200);
    expect(Number(file.headers.get('content-length'))).toBeGreaterThan(1000);
    await file.arrayBuffer();
    controller.abort();
    expect(await exit).toBe(0);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
