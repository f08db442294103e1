import type { DeviceModelEntry } from '../device/device-model-entry.js';
import type { DeviceRuntimeName, OrtSettings } from '../device/runtime-picker.js';
import type { SendResult } from './chat-engine.js';

export { DEVICE_RUNTIMES, type DeviceRuntimeName } from '../device/runtime-picker.js';

/** Messages from the page to the device worker. */
export type ToWorker =
  | {
      type: 'load';
      model: DeviceModelEntry;
      runtime: DeviceRuntimeName;
      /** onnxruntime-web: its settings and where its WASM files are served (absolute URL). */
      ort?: OrtSettings & { wasmPaths: string };
    }
  /** `raw`: complete `text` as a plain prompt (no chat template, no conversation). */
  | { type: 'send'; text: string; system: string; maxTokens: number; temperature: number; raw: boolean }
  | { type: 'stop' }
  | { type: 'reset' }
  /** Speed test: `runs` greedy decodes of exactly `tokens` tokens on a fresh sequence. */
  | { type: 'bench'; tokens: number; runs: number };

/** Messages from the device worker to the page. */
export type FromWorker =
  | { type: 'status'; text: string }
  | { type: 'loaded'; backend: string; contextLength: number; modelBytes: number; details: string }
  | { type: 'delta'; text: string; tokens: number; tokensPerSecond: number }
  | ({ type: 'finish' } & SendResult)
  | { type: 'bench'; tokensPerSecond: number[] }
  | { type: 'error'; message: string };
