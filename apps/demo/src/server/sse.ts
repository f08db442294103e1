import type { ServerResponse } from 'node:http';

/** Writes server-sent events the way OpenAI streams: `data: <json>\n\n`, ending with `data: [DONE]`. */
export class SseWriter {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
  }

  get closed(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }

  send(data: unknown): void {
    if (!this.closed) this.#res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.closed) this.#res.end('data: [DONE]\n\n');
  }
}
