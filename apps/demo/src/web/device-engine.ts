import type { DeviceModelEntry, DeviceModelIndex } from '../device/device-model-entry.js';
import { ortSettingsFor, type PageEnvironment, pickRuntimes } from '../device/runtime-picker.js';
import type { ChatEngine, EngineModel, SendOptions, SendResult } from './chat-engine.js';
import type { DeviceRuntimeName, FromWorker, ToWorker } from './device-protocol.js';

/** `performance.measureUserAgentSpecificMemory` (Chromium, cross-origin isolated pages): the page's and workers' memory. */
type MeasureMemory = () => Promise<{ bytes: number }>;

/**
 * Runs the model in this page (a Web Worker). It only ever fetches the model files that `slm serve` offers under
 * `/models/` and onnxruntime-web's WASM files under `/ort/` — never the API: the conversation does not leave the
 * device. The runtime is picked per model (see `pickRuntimes`); the backend picker overrides it.
 */
export class DeviceEngine implements ChatEngine {
  readonly mode = 'device' as const;
  #worker: Worker | undefined;
  #entries: DeviceModelEntry[] = [];
  #ortWasm: string | null = null;
  #listener: ((message: FromWorker) => void) | undefined;
  #modelBytes = 0;
  #measured: number | undefined;
  #measuring = false;
  #selecting: Promise<unknown> = Promise.resolve();

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

  #environment(): PageEnvironment {
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      hardwareConcurrency: navigator.hardwareConcurrency || 1,
      ortAvailable: this.#ortWasm !== null,
    };
  }

  async listModels(): Promise<EngineModel[]> {
    const res = await fetch('/models/index.json');
    if (!res.ok) throw new Error(`GET /models/index.json: HTTP ${res.status}`);
    const index = (await res.json()) as DeviceModelIndex;
    this.#entries = index.data;
    this.#ortWasm = index.ortWasm ?? null;
    return this.#entries.map((e) => ({ id: e.id }));
  }

  backendsFor(model: EngineModel): string[] {
    const entry = this.#entries.find((e) => e.id === model.id);
    return entry ? pickRuntimes(entry, this.#environment()).runtimes : [];
  }

  /**
   * Loads one model at a time: a select made while another is loading waits for it (the worker answers loads in
   * order, and each answer must reach the select that asked).
   */
  select(modelId: string, backend: string, onStatus: (text: string) => void): Promise<string> {
    const next = this.#selecting.then(
      () => this.#select(modelId, backend, onStatus),
      () => this.#select(modelId, backend, onStatus),
    );
    this.#selecting = next;
    return next;
  }

  #select(modelId: string, backend: string, onStatus: (text: string) => void): Promise<string> {
    const entry = this.#entries.find((e) => e.id === modelId);
    if (!entry) return Promise.reject(new Error(`the server offers no files for ${modelId}`));
    const env = this.#environment();
    const choice = pickRuntimes(entry, env);
    const runtime = backend as DeviceRuntimeName;
    if (!choice.runtimes.includes(runtime)) {
      return Promise.reject(new Error(`${modelId} cannot run on ${backend} in this page (${choice.reason})`));
    }
    const why = runtime === choice.runtimes[0] ? `picked: ${choice.reason}` : 'chosen by hand';
    return new Promise((resolve, reject) => {
      this.#listener = (m) => {
        if (m.type === 'status') onStatus(m.text);
        else if (m.type === 'loaded') {
          this.#modelBytes = m.modelBytes;
          resolve(`${runtime} (${m.details}); ${why}`);
        } else if (m.type === 'error') reject(new Error(m.message));
      };
      this.#post({
        type: 'load',
        model: entry,
        runtime,
        ...(runtime === 'onnxruntime-web' && this.#ortWasm !== null
          ? { ort: { ...ortSettingsFor(entry, env), wasmPaths: new URL(this.#ortWasm, location.origin).href } }
          : {}),
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
        raw: options.raw === true,
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
    // A cross-origin isolated page can measure its whole memory, the worker's heap and WASM memory included; the
    // browser answers at its next garbage collection, so the figure shown is the latest answer.
    const measure = (performance as Performance & { measureUserAgentSpecificMemory?: MeasureMemory })
      .measureUserAgentSpecificMemory;
    if (globalThis.crossOriginIsolated === true && measure) {
      if (!this.#measuring) {
        this.#measuring = true;
        measure
          .call(performance)
          .then((r) => {
            this.#measured = r.bytes;
          })
          .catch(() => undefined)
          .finally(() => {
            this.#measuring = false;
          });
      }
      if (this.#measured !== undefined) return this.#measured;
    }
    // Otherwise: the page's own heap (where the browser exposes it) plus the model's weights in the worker.
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
    return heap !== undefined ? heap + this.#modelBytes : this.#modelBytes || undefined;
  }
}
