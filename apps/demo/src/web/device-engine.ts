import type { ChatEngine, EngineModel, SendOptions, SendResult } from './chat-engine.js';
import { DEVICE_BACKENDS, type DeviceBackendName, type FromWorker, type ToWorker } from './device-protocol.js';

interface DeviceModelEntry {
  id: string;
  files: { model: string; tokenizer: string };
}

/**
 * Runs the model in this page (a Web Worker). It only ever fetches the model files that `slm serve` offers under
 * `/models/` — never the API: the conversation does not leave the device.
 */
export class DeviceEngine implements ChatEngine {
  readonly mode = 'device' as const;
  #worker: Worker | undefined;
  #entries: DeviceModelEntry[] = [];
  #listener: ((message: FromWorker) => void) | undefined;
  #modelBytes = 0;

  #ensureWorker(): Worker {
    if (!this.#worker) {
      this.#worker = new Worker(new URL('./device-worker.ts', import.meta.url), { type: 'module' });
      this.#worker.onmessage = (event: MessageEvent<FromWorker>) => this.#listener?.(event.data);
    }
    return this.#worker;
  }

  #post(message: ToWorker): void {
    this.#ensureWorker().postMessage(message);
  }

  async listModels(): Promise<EngineModel[]> {
    const res = await fetch('/models/index.json');
    if (!res.ok) throw new Error(`GET /models/index.json: HTTP ${res.status}`);
    this.#entries = ((await res.json()) as { data: DeviceModelEntry[] }).data;
    return this.#entries.map((e) => ({ id: e.id }));
  }

  backendsFor(): string[] {
    return [...DEVICE_BACKENDS];
  }

  select(modelId: string, backend: string, onStatus: (text: string) => void): Promise<void> {
    const entry = this.#entries.find((e) => e.id === modelId);
    if (!entry) return Promise.reject(new Error(`the server offers no files for ${modelId}`));
    return new Promise((resolve, reject) => {
      this.#listener = (m) => {
        if (m.type === 'status') onStatus(m.text);
        else if (m.type === 'loaded') {
          this.#modelBytes = m.modelBytes;
          resolve();
        } else if (m.type === 'error') reject(new Error(m.message));
      };
      this.#post({
        type: 'load',
        id: entry.id,
        backend: backend as DeviceBackendName,
        modelUrl: entry.files.model,
        tokenizerUrl: entry.files.tokenizer,
      });
    });
  }

  send(options: SendOptions): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#post({ type: 'stop' });
      options.signal.addEventListener('abort', onAbort, { once: true });
      this.#listener = (m) => {
        if (m.type === 'delta') options.onDelta(m.text, { tokens: m.tokens, tokensPerSecond: m.tokensPerSecond });
        else if (m.type === 'finish') {
          options.signal.removeEventListener('abort', onAbort);
          const { type: _type, ...result } = m;
          resolve(result);
        } else if (m.type === 'error') {
          options.signal.removeEventListener('abort', onAbort);
          reject(new Error(m.message));
        }
      };
      this.#post({
        type: 'send',
        text: options.text,
        system: options.system,
        maxTokens: options.maxTokens,
        temperature: options.temperature,
      });
    });
  }

  speedTest(tokens: number, runs: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.#listener = (m) => {
        if (m.type === 'bench') resolve(m.tokensPerSecond);
        else if (m.type === 'error') reject(new Error(m.message));
      };
      this.#post({ type: 'bench', tokens, runs });
    });
  }

  reset(): void {
    this.#post({ type: 'reset' });
  }

  async memoryBytes(): Promise<number | undefined> {
    // The weights live in the worker; the page's own heap is reported where the browser exposes it.
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
    return heap !== undefined ? heap + this.#modelBytes : this.#modelBytes || undefined;
  }
}
