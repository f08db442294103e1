import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertToGguf, createLlamaCppBackend } from '@slmkit/backend-llamacpp';
import { convertToOnnx, createOnnxBackend } from '@slmkit/backend-onnx';
import { createTfjsBackend } from '@slmkit/backend-tfjs';
import { type Backend, generateText, type ModelInput, perplexity } from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * slmkit's own default model (trained by `slm train --recipe default`, shipped in @slmkit/backend-tfjs) exported to
 * GGUF and ONNX gives the same greedy text on every backend, and its int8 ONNX export keeps perplexity within 2%.
 * This lives in bench because it is the package that depends on every backend.
 */
const here = dirname(fileURLToPath(import.meta.url));
const defaultModelDir = join(here, '..', '..', 'backend-tfjs', 'models', 'default');
const out = mkdtempSync(join(tmpdir(), 'slmkit-cross-'));
const backends: Backend[] = [];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

// Original text (not from the training corpus), long enough for several perplexity chunks.
const HELD_OUT =
  `The ship left the harbour before dawn, and the sailors stood along the rail to watch the lights of the town grow
small behind them. The captain said little. He walked the deck with his hands behind his back and looked now at the
sky, now at the dark water, as if he were reading a letter that only he could see. By noon the wind had come round to
the west and the sea ran high and grey. The mate called the men aloft, and they went up into the rigging like birds,
while the old cook sang in the galley a song about a whale that swallowed a church. In the evening the clouds broke,
and the sun went down red over the long swell, and every man on board was glad of his supper and his hammock.`.repeat(
    3,
  );

async function greedyIds(backend: Backend, input: ModelInput): Promise<number[]> {
  const model = await backend.load(input);
  try {
    return (
      await generateText({ model, prompt: 'The sea was calm and', maxTokens: 24, temperature: 0, stopTokens: [] })
    ).tokens;
  } finally {
    await model.dispose();
  }
}

describe("slmkit's default model across backends", () => {
  it('the GGUF and ONNX exports give the same greedy ids as the HF folder on the reference backend', async () => {
    const reference = createReferenceBackend();
    const llamacpp = createLlamaCppBackend({ threads: 1 });
    const onnx = createOnnxBackend({ threads: 1, dtype: 'fp32' });
    const tfjs = createTfjsBackend();
    backends.push(reference, llamacpp, onnx, tfjs);
    const expected = await greedyIds(reference, defaultModelDir);
    expect(expected).toHaveLength(24);
    const gguf = await convertToGguf(defaultModelDir, join(out, 'default.gguf'), { quantize: 'f32' });
    const onnxDir = join(out, 'default-onnx');
    await convertToOnnx(defaultModelDir, onnxDir, { quantize: 'f32' });
    expect(await greedyIds(llamacpp, gguf.path)).toEqual(expected);
    expect(await greedyIds(onnx, onnxDir)).toEqual(expected);
    expect(await greedyIds(tfjs, defaultModelDir)).toEqual(expected);
    expect(await greedyIds(tfjs, gguf.path)).toEqual(expected);
  });

  it('int8 ONNX keeps perplexity within 2% of fp32 on held-out text', async () => {
    const dir = join(out, 'default-onnx-int8');
    await convertToOnnx(defaultModelDir, dir);
    const fp32Backend = createOnnxBackend({ threads: 1, dtype: 'fp32' });
    const int8Backend = createOnnxBackend({ threads: 1, dtype: 'int8' });
    backends.push(fp32Backend, int8Backend);
    const fp32 = await fp32Backend.load(dir);
    const int8 = await int8Backend.load(dir);
    expect(int8.info.weightType).toBe('int8');
    const tokens = fp32.tokenizer.encode(HELD_OUT, { addSpecialTokens: false });
    const a = await perplexity(fp32, tokens, { contextSize: 128 });
    const b = await perplexity(int8, tokens, { contextSize: 128 });
    console.info(
      `default model perplexity: fp32 ${a.perplexity.toFixed(4)}, int8 ${b.perplexity.toFixed(4)} (${a.chunks} chunks of 128)`,
    );
    expect(a.chunks).toBeGreaterThanOrEqual(2);
    expect(Math.abs(b.perplexity - a.perplexity) / a.perplexity).toBeLessThan(0.02);
    await fp32.dispose();
    await int8.dispose();
  });
});
