/** Why a generation ended. */
export type FinishReason = 'stop' | 'length' | 'context-full' | 'abort';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the KV cache instead of being evaluated. */
  cachedPromptTokens: number;
}

/** Times in milliseconds, rates in tokens per second. */
export interface GenerationTimings {
  /** The backend's model load time (`LoadedModel.info.loadMs`). */
  loadMs: number;
  /** From the call to the first generated token. */
  timeToFirstTokenMs: number;
  /** Evaluating the prompt. */
  prefillMs: number;
  prefillTokensPerSecond: number;
  /** From the first generated token to the last. */
  decodeMs: number;
  decodeTokensPerSecond: number;
  totalMs: number;
}

export type GeneratePart =
  | { type: 'text-delta'; text: string }
  | { type: 'token'; id: number; text: string; logprob?: number }
  | { type: 'finish'; finishReason: FinishReason; usage: Usage; timings: GenerationTimings; stopSequence?: string };
