// The page the browser test bundles: greedy stories260K through onnxruntime-web, result on `window`.
// Query: tokens, prompt, device, model (folder under the origin, default `model`), layout (`optimum` | `slots`),
// nostop (generate all `tokens`; the decode benchmark uses it).
import { generateText } from '@slmkit/core';
import { createOnnxBackend, setOrtWasmPaths } from '../browser.js';

interface PageResult {
  tokens?: number[];
  text?: string;
  runtime?: string;
  device?: string;
  /** The graph that ran (`details.file`). */
  file?: string;
  decodeTokensPerSecond?: number;
  timeToFirstTokenMs?: number;
  error?: string;
}

const target = window as unknown as { __slmkitResult?: PageResult };

async function main(): Promise<PageResult> {
  const params = new URLSearchParams(window.location.search);
  setOrtWasmPaths(`${window.location.origin}/ort/`);
  const layout = params.get('layout');
  const backend = createOnnxBackend(layout === 'optimum' || layout === 'slots' ? { kvLayout: layout } : {});
  const folder = `${window.location.origin}/${params.get('model') ?? 'model'}`;
  const model = await backend.load(folder, { device: params.get('device') ?? undefined });
  try {
    const result = await generateText({
      model,
      prompt: params.get('prompt') ?? 'Once upon a time',
      maxTokens: Number(params.get('tokens') ?? 60),
      temperature: 0,
      ...(params.has('nostop') ? { stopTokens: [] } : {}),
    });
    return {
      tokens: result.tokens,
      text: result.text,
      runtime: String(model.info.details?.runtime),
      device: model.info.device,
      file: String(model.info.details?.file),
      decodeTokensPerSecond: result.timings.decodeTokensPerSecond,
      timeToFirstTokenMs: result.timings.timeToFirstTokenMs,
    };
  } finally {
    await backend.dispose();
  }
}

main().then(
  (result) => {
    target.__slmkitResult = result;
  },
  (error: unknown) => {
    target.__slmkitResult = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  },
);
