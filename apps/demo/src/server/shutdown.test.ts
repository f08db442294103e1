import { createRandomModel, createReferenceBackend } from '@slmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createDemoServer } from './demo-server.js';

describe('createDemoServer', () => {
  it('close() stops running generations instead of waiting for them, and frees the model', async () => {
    const model = await createReferenceBackend().load(createRandomModel({ seed: 5, contextLength: 256 }));
    const server = await createDemoServer({ models: [{ id: 'tiny', model }], port: 0 });
    const base = await server.listen();
    const res = await fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'hello', max_tokens: 250, temperature: 0, stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream has begun
    await server.close();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const chunks = text.split('\n\n').filter((e) => e.startsWith('data: {'));
    expect(chunks.length).toBeLessThan(250); // ended early, not after all 250 tokens
    await expect(model.createSequence()).rejects.toThrow(/disposed/);
  });

  it('refuses duplicate model ids and an empty model list', async () => {
    await expect(createDemoServer({ models: [] })).rejects.toThrow(/at least one model/);
    const model = await createReferenceBackend().load(createRandomModel({ seed: 5 }));
    await expect(
      createDemoServer({
        models: [
          { id: 'a', model },
          { id: 'a', model },
        ],
      }),
    ).rejects.toThrow(/share the id/);
  });
});
