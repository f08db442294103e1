import type { SendResult } from './chat-engine.js';

/**
 * Runtimes the page can run a model on: `tinyjs` (the demo's JavaScript forward tuned for tiny models, the
 * default) and `reference` (core's readable reference forward, slower).
 */
export const DEVICE_BACKENDS = ['tinyjs', 'reference'] as const;
export type DeviceBackendName = (typeof DEVICE_BACKENDS)[number];

/** Messages from the page to the device worker. */
export type ToWorker =
  | { type: 'load'; id: string; backend: DeviceBackendName; modelUrl: string; tokenizerUrl: string }
  | { type: 'send'; text: string; system: string; maxTokens: number; temperature: number }
  | { type: 'stop' }
  | { type: 'reset' }
  /** Speed test: `runs` greedy decodes of exactly `tokens` tokens on a fresh sequence. */
  | { type: 'bench'; tokens: number; runs: number };

/** Messages from the device worker to the page. */
export type FromWorker =
  | { type: 'status'; text: string }
  | { type: 'loaded'; backend: string; contextLength: number; modelBytes: number }
  | { type: 'delta'; text: string; tokens: number; tokensPerSecond: number }
  | ({ type: 'finish' } & SendResult)
  | { type: 'bench'; tokensPerSecond: number[] }
  | { type: 'error'; message: string };
