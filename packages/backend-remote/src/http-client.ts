import { AbortError, BackendError, NotFoundError } from '@slmkit/core';

export interface HttpClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** Milliseconds before a request without any response fails. Default 120000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** JSON-over-HTTP and SSE for OpenAI-compatible servers, with typed errors naming the URL. */
export class HttpClient {
  readonly baseUrl: string;
  readonly #apiKey?: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#fetch = options.fetch ?? fetch;
  }

  #url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  async #request(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const url = this.#url(path);
    if (signal?.aborted) throw new AbortError('The request was aborted', { file: url, cause: signal.reason });
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.#apiKey ? { authorization: `Bearer ${this.#apiKey}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: combined,
      });
    } catch (error) {
      if (signal?.aborted) throw new AbortError('The request was aborted', { file: url, cause: signal.reason });
      if (timeout.aborted)
        throw new BackendError(`no response within ${this.#timeoutMs} ms`, { file: url, cause: error });
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new BackendError(
        `cannot reach the server${cause?.code ? ` (${cause.code})` : ''}: ${(error as Error).message}`,
        { file: url, cause: error },
      );
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string };
        message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? message);
      } catch {
        // not JSON: keep the text
      }
      const details = { file: url, field: `HTTP ${response.status}`, value: response.status };
      if (response.status === 404) throw new NotFoundError(message || 'not found', details);
      throw new BackendError(`the server answered ${response.status}: ${message}`, details);
    }
    return response;
  }

  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const response = await this.#request('GET', path, undefined, signal);
    return (await response.json()) as T;
  }

  async postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.#request('POST', path, body, signal);
    return (await response.json()) as T;
  }

  /** POSTs and yields each SSE `data:` payload parsed as JSON, until `[DONE]` or the end of the stream. */
  async *postSse<T>(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const url = this.#url(path);
    const response = await this.#request('POST', path, body, signal);
    if (!response.body) throw new BackendError('the streamed response has no body', { file: url });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (signal?.aborted) throw new AbortError('The request was aborted', { file: url, cause: signal.reason });
          throw new BackendError(`the stream broke: ${(error as Error).message}`, { file: url, cause: error });
        }
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (data === '') continue;
          if (data === '[DONE]') return;
          let parsed: unknown;
          try {
            parsed = JSON.parse(data);
          } catch (error) {
            throw new BackendError(`an SSE event is not JSON: ${data.slice(0, 200)}`, { file: url, cause: error });
          }
          const err = (parsed as { error?: { message?: string } }).error;
          if (err)
            throw new BackendError(`the server reported an error mid-stream: ${err.message ?? JSON.stringify(err)}`, {
              file: url,
            });
          yield parsed as T;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
}
