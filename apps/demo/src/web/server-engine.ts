import type { ChatEngine, EngineModel, SendOptions, SendResult } from './chat-engine.js';

interface ChatMessageJson {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Talks to `slm serve` over its OpenAI-compatible API (streaming chat completions over SSE). */
export class ServerEngine implements ChatEngine {
  readonly mode = 'server' as const;
  #model = '';
  #history: ChatMessageJson[] = [];
  readonly #base: string;
  readonly #apiKey: () => string;

  /** `apiKey` is read at each request (the page's settings field). */
  constructor(base = '', apiKey: () => string = () => '') {
    this.#base = base;
    this.#apiKey = apiKey;
  }

  #headers(json = false): Record<string, string> {
    const key = this.#apiKey();
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    };
  }

  async listModels(): Promise<EngineModel[]> {
    const res = await fetch(`${this.#base}/v1/models`, { headers: this.#headers() });
    if (!res.ok) throw new Error(`GET /v1/models: HTTP ${res.status}`);
    const body = (await res.json()) as { data: { id: string; slmkit?: { backend: string; context_length: number } }[] };
    return body.data.map((m) => ({
      id: m.id,
      backend: m.slmkit?.backend ?? 'server',
      contextLength: m.slmkit?.context_length,
    }));
  }

  backendsFor(model: EngineModel): string[] {
    return [model.backend ?? 'server'];
  }

  async select(modelId: string): Promise<undefined> {
    this.#model = modelId;
    this.#history = [];
  }

  reset(): void {
    this.#history = [];
  }

  async memoryBytes(): Promise<number | undefined> {
    const res = await fetch(`${this.#base}/health`);
    if (!res.ok) return undefined;
    return ((await res.json()) as { memory?: { rss: number } }).memory?.rss;
  }

  async send(options: SendOptions): Promise<SendResult> {
    const messages: ChatMessageJson[] = [
      ...(options.system ? [{ role: 'system' as const, content: options.system }] : []),
      ...this.#history,
      { role: 'user', content: options.text },
    ];
    const res = await fetch(`${this.#base}/v1/chat/completions`, {
      method: 'POST',
      headers: this.#headers(true),
      body: JSON.stringify({
        model: this.#model,
        messages,
        max_tokens: options.maxTokens,
        temperature: options.temperature,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: options.signal,
    });
    if (!res.ok || !res.body) {
      const error = (await res.json().catch(() => undefined)) as { error?: { message: string } } | undefined;
      throw new Error(error?.error?.message ?? `HTTP ${res.status}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let text = '';
    let chunks = 0;
    let first = 0;
    let last = 0;
    const result: SendResult = {
      completionTokens: 0,
      promptTokens: 0,
      cachedPromptTokens: 0,
      tokensPerSecond: 0,
      finishReason: 'abort',
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (!event.startsWith('data: ')) continue;
          const data = event.slice(6);
          if (data === '[DONE]') continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          const choice = chunk.choices?.[0];
          if (choice?.delta?.content) {
            const now = performance.now();
            if (chunks === 0) first = now;
            last = now;
            chunks++;
            text += choice.delta.content;
            options.onDelta(choice.delta.content, {
              tokens: chunks,
              tokensPerSecond: last > first ? ((chunks - 1) * 1000) / (last - first) : 0,
            });
          }
          if (choice?.finish_reason) result.finishReason = choice.finish_reason;
          if (chunk.usage) {
            result.completionTokens = chunk.usage.completion_tokens;
            result.promptTokens = chunk.usage.prompt_tokens;
            result.cachedPromptTokens = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
          }
        }
      }
    } catch (error) {
      if (!options.signal.aborted) throw error;
    }
    const tokens = result.completionTokens || chunks;
    result.tokensPerSecond = last > first ? ((tokens - 1) * 1000) / (last - first) : 0;
    this.#history.push({ role: 'user', content: options.text }, { role: 'assistant', content: text });
    return result;
  }
}
