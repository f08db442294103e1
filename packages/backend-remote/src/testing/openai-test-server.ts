/**
 * A real OpenAI-compatible HTTP server (node:http on 127.0.0.1) for tests: it serves models held in memory with
 * core's reference backend. Routes: GET /v1/models; POST /v1/completions with string or token-id prompts,
 * streaming (SSE), `logprobs` (top-k, keyed by token text as OpenAI does), `echo` with prompt log-probabilities,
 * and the llama.cpp extensions `return_tokens` and `ignore_eos`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate, type LoadedModel, logSoftmax, type ModelData } from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';

export interface TestServerOptions {
  /** Send token ids in stream chunks when asked (`return_tokens`). Default true. */
  returnTokens?: boolean;
  /** Answer prompt log-probabilities for `echo`. Default true. */
  promptLogprobs?: boolean;
  /** Require this bearer token. */
  apiKey?: string;
}

export interface OpenAiTestServer {
  url: string;
  /** Serves `data` under `data.spec.name`. */
  addModel(data: ModelData): Promise<void>;
  /** Requests received, by path. */
  readonly requests: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

function tokenText(model: LoadedModel, id: number): string {
  // Decoded with a preceding token so a leading space shows, as servers print pieces.
  const decoder = model.tokenizer.createStreamDecoder({ context: [model.tokenizer.special.bos ?? 0] });
  return decoder.push(id) + decoder.flush();
}

function topEntries(model: LoadedModel, row: Float32Array, k: number): Record<string, number> {
  const lp = logSoftmax(row);
  const order = [...lp.keys()].sort((a, b) => lp[b] - lp[a]).slice(0, k);
  const out: Record<string, number> = {};
  for (const id of order) {
    const text = tokenText(model, id);
    if (!(text in out)) out[text] = lp[id];
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startOpenAiTestServer(options: TestServerOptions = {}): Promise<OpenAiTestServer> {
  const backend = createReferenceBackend();
  const models = new Map<string, LoadedModel>();
  const requests: { path: string; body: Record<string, unknown> }[] = [];

  async function completions(_req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const model = models.get(String(body.model));
    if (!model)
      return sendJson(res, 404, {
        error: { message: `model "${String(body.model)}" not found`, type: 'invalid_request_error' },
      });
    const prompt = typeof body.prompt === 'string' ? model.tokenizer.encode(body.prompt) : (body.prompt as number[]);
    const maxTokens = Number(body.max_tokens ?? 16);
    const k = typeof body.logprobs === 'number' ? body.logprobs : 0;
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const stopTokens = body.ignore_eos ? [] : undefined;
    const sampling = {
      temperature: Number(body.temperature ?? 1),
      topP: Number(body.top_p ?? 1),
      topK: Number(body.top_k ?? 0),
      minP: 0,
      seed: Number(body.seed ?? 0),
    };
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let finish = 'length';
      try {
        for await (const part of generate({
          model,
          prompt,
          maxTokens,
          stopTokens,
          signal: controller.signal,
          ...sampling,
        })) {
          if (part.type === 'token') {
            // Like real servers, special tokens print no text; with return_tokens their ids are still sent.
            const sendIds = body.return_tokens === true && options.returnTokens !== false;
            if (!sendIds && part.text === '' && model.tokenizer.isSpecial(part.id)) continue;
            const choice = {
              index: 0,
              text: part.text,
              logprobs: null,
              finish_reason: null,
              ...(sendIds ? { tokens: [part.id] } : {}),
            };
            res.write(`data: ${JSON.stringify({ object: 'text_completion', choices: [choice] })}\n\n`);
          } else if (part.type === 'finish') {
            finish = part.finishReason === 'stop' ? 'stop' : 'length';
          }
        }
      } catch {
        res.end();
        return;
      }
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: '', finish_reason: finish }] })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const sequence = await model.createSequence();
    try {
      const echo = body.echo === true && options.promptLogprobs !== false;
      const logits = await sequence.forward(prompt, { logits: echo ? 'all' : 'last' });
      const last = logits.last();
      let best = 0;
      for (let i = 1; i < last.length; i++) if (last[i] > last[best]) best = i;
      const top: (Record<string, number> | null)[] = [];
      if (echo) {
        top.push(null);
        for (let r = 0; r < logits.rows; r++) top.push(k > 0 ? topEntries(model, logits.row(r), k) : {});
      } else {
        top.push(k > 0 ? topEntries(model, last, k) : {});
      }
      const text = tokenText(model, best);
      sendJson(res, 200, {
        object: 'text_completion',
        choices: [
          { index: 0, text, finish_reason: 'length', logprobs: k > 0 ? { tokens: [text], top_logprobs: top } : null },
        ],
        usage: { prompt_tokens: prompt.length, completion_tokens: 1 },
      });
    } finally {
      await sequence.dispose();
    }
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
          return sendJson(res, 401, { error: { message: 'invalid api key' } });
        }
        const path = (req.url ?? '/').split('?')[0];
        const body = req.method === 'POST' ? await readBody(req) : {};
        requests.push({ path, body });
        if (req.method === 'GET' && path === '/v1/models') {
          return sendJson(res, 200, {
            object: 'list',
            data: [...models.entries()].map(([id, m]) => ({ id, object: 'model', context_length: m.contextSize })),
          });
        }
        if (req.method === 'POST' && path === '/v1/completions') return await completions(req, res, body);
        return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { error: { message: (error as Error).message } });
        else res.end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async addModel(data) {
      if (!models.has(data.spec.name)) models.set(data.spec.name, await backend.load(data));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const m of models.values()) await m.dispose();
      await backend.dispose();
    },
  };
}
