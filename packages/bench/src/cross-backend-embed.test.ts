import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertToGguf, createLlamaCppBackend } from '@slmkit/backend-llamacpp';
import { convertToOnnx, createOnnxBackend, type OnnxDtype } from '@slmkit/backend-onnx';
import { createTfjsBackend } from '@slmkit/backend-tfjs';
import { type Backend, cosineSimilarity, embed, type ModelInput } from '@slmkit/core';
import { createReferenceBackend, EMBEDDING_MIN_COSINE } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `embed` (pooled final hidden states after the output norm) of slmkit's default model agrees across every backend:
 * the HF folder on the reference backend is the baseline; llama.cpp runs the GGUF export, ONNX Runtime the ONNX
 * exports, tfjs the HF folder. The bar is cosine >= 0.999 for the same model and text.
 */
const here = dirname(fileURLToPath(import.meta.url));
const defaultModelDir = join(here, '..', '..', 'backend-tfjs', 'models', 'default');
const out = mkdtempSync(join(tmpdir(), 'slmkit-cross-embed-'));
const backends: Backend[] = [];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

const TEXTS = [
  'The sea was calm and the boat drifted towards the island.',
  'Once upon a time there was a little dog who loved to run in the park.',
  'She opened the letter, read it twice, and put it back in the drawer without a word.',
];

async function embedAll(backend: Backend, input: ModelInput, pooling: 'mean' | 'last'): Promise<Float32Array[]> {
  const model = await backend.load(input);
  try {
    return await embed(model, TEXTS, { pooling });
  } finally {
    await model.dispose();
  }
}

function minCosine(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  return Math.min(...a.map((v, i) => cosineSimilarity(v, b[i])));
}

describe("slmkit's default model: embeddings across backends", () => {
  it(`embed agrees with the reference backend to cosine >= ${EMBEDDING_MIN_COSINE} on llamacpp, onnx and tfjs`, async () => {
    const reference = createReferenceBackend();
    const llamacpp = createLlamaCppBackend({ threads: 1 });
    const onnx = (dtype: OnnxDtype) => createOnnxBackend({ threads: 1, dtype });
    const onnxBackends = { fp32: onnx('fp32'), portable: onnx('portable'), int8: onnx('int8') };
    const tfjs = createTfjsBackend();
    backends.push(reference, llamacpp, tfjs, ...Object.values(onnxBackends));
    const gguf = await convertToGguf(defaultModelDir, join(out, 'default.gguf'), { quantize: 'f32' });
    const onnxDir = join(out, 'default-onnx');
    await convertToOnnx(defaultModelDir, onnxDir);
    const lines: string[] = [];
    let worst = 1;
    for (const pooling of ['mean', 'last'] as const) {
      const expected = await embedAll(reference, defaultModelDir, pooling);
      const got: Record<string, Float32Array[]> = {
        'llamacpp (GGUF f32)': await embedAll(llamacpp, gguf.path, pooling),
        'onnx (fp32, fused ops)': await embedAll(onnxBackends.fp32, onnxDir, pooling),
        'onnx (portable)': await embedAll(onnxBackends.portable, onnxDir, pooling),
        // int8 weights (and int8 activations at accuracy level 4): an approximation, yet within the same bar.
        'onnx (int8)': await embedAll(onnxBackends.int8, onnxDir, pooling),
        'tfjs (HF folder)': await embedAll(tfjs, defaultModelDir, pooling),
      };
      for (const [name, vectors] of Object.entries(got)) {
        const cosine = minCosine(vectors, expected);
        worst = Math.min(worst, cosine);
        lines.push(`${pooling} ${name}: min cosine ${cosine.toFixed(9)}`);
        expect(cosine, `${pooling} ${name}`).toBeGreaterThanOrEqual(EMBEDDING_MIN_COSINE);
      }
      // Different texts give different vectors (the check above is not met by a constant).
      expect(cosineSimilarity(expected[0], expected[1])).toBeLessThan(0.999);
    }
    console.info(
      `default model embeddings vs reference (${TEXTS.length} texts):\n${lines.join('\n')}\nminimum: ${worst.toFixed(9)}`,
    );
  });
});
