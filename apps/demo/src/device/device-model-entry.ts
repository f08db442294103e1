/** Model files the web UI may download to run a model in the page. */
export type DeviceModelFormat = 'llama2c' | 'onnx';

/** What `/models/index.json` says about one model the page may run (URLs are relative to the server's origin). */
export interface DeviceModelEntry {
  id: string;
  format: DeviceModelFormat;
  /** Parameters, from the checkpoint header or config.json; undefined when they cannot be read. */
  parameters?: number;
  /** Bytes the page downloads for the weights (for an ONNX folder: the largest ONNX file + its data). */
  bytes: number;
  /**
   * llama2c: `model` and `tokenizer`. onnx: `folder` (the URL the ONNX backend loads), and each served file by its
   * path in the folder (`config.json`, `onnx/model.onnx`, …).
   */
  files: Record<string, string>;
  /** onnx: the ONNX files present and their sizes (with their external data), so the page can pick a dtype. */
  onnxFiles?: Record<string, { bytes: number; externalData?: string[] }>;
}

/** `GET /models/index.json`. */
export interface DeviceModelIndex {
  data: DeviceModelEntry[];
  /** Where onnxruntime-web's WASM files are served (`/ort/`), or null when the server has none to offer. */
  ortWasm: string | null;
}
