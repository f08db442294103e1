// The page the browser test bundles: greedy stories260K through onnxruntime-web, result on `window`.
import { generateText } from '@slmkit/core';
import { createOnnxBackend, setOrtWasmPaths } from '../browser.js';

interface PageResult {
  tokens?: number[];
  text?: string;
  runtime?: string;
  device?: string;
  error?: string;
}

const target = window as unknown as { __slmkitResult?: PageResult };

async function main(): Promise<PageResult> {
  const params = new URLSearchParams(window.location.search);
  setOrtWasmPaths(`${window.location.origin}/ort/`);
  const backend = createOnnxBackend();
  const model = await backend.load(`${window.location.origin}/model`, { device: params.get('device') ?? undefined });
  try {
    const result = await generateText({
      model,
      prompt: params.get('prompt') ?? 'Once upon a time',
      maxTokens: Number(params.get('tokens') ?? 60),
      temperature: 0,
    });
    return {
      tokens: result.tokens,
      text: result.text,
      runtime: String(model.info.details?.runtime),
      device: model.info.device,
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
