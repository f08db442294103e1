/** What the page needs from a place that runs the model: the server (`slm serve`) or this device. */
export interface EngineModel {
  id: string;
  /** The server's backend, for models that run there. */
  backend?: string;
  contextLength?: number;
}

export interface SendOptions {
  text: string;
  system: string;
  maxTokens: number;
  temperature: number;
  signal: AbortSignal;
  /** Complete `text` as a plain prompt (no chat template, no conversation), where the engine supports it. */
  raw?: boolean;
  /** Called for each piece of streamed text, with the tokens so far and the decode speed so far. */
  onDelta: (text: string, live: { tokens: number; tokensPerSecond: number }) => void;
}

export interface SendResult {
  completionTokens: number;
  promptTokens: number;
  cachedPromptTokens: number;
  /** Decode speed: tokens after the first over the time between the first and the last. */
  tokensPerSecond: number;
  finishReason: string;
}

export interface ChatEngine {
  readonly mode: 'server' | 'device';
  listModels(): Promise<EngineModel[]>;
  /** Runtimes this engine can run `model` on (the first is the default). */
  backendsFor(model: EngineModel): string[];
  /**
   * Makes `modelId` the model that answers (on the device this downloads and loads it); resolves to a note on how
   * it runs, where there is one.
   */
  select(modelId: string, backend: string, onStatus: (text: string) => void): Promise<string | undefined>;
  send(options: SendOptions): Promise<SendResult>;
  /** Forgets the conversation. */
  reset(): void;
  /** Decode speed test where the model runs in this page: tokens/s of each run. */
  speedTest?(tokens: number, runs: number): Promise<number[]>;
  /** Bytes of memory the model's runtime uses now, where known. */
  memoryBytes(): Promise<number | undefined>;
}
