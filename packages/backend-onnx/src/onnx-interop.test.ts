import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { goldenContinuations } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';
import { convertToOnnx } from './index.js';

const stories = stories260KPaths();

describe.skipIf(!stories)(
  `interop: our export runs in @huggingface/transformers${stories ? '' : ` (${SHARED_MISSING_REASON})`}`,
  () => {
    it('text-generation pipeline (local files only, dtype fp32) gives the reference greedy text', async () => {
      const work = await mkdtemp(join(tmpdir(), 'slmkit-onnx-interop-'));
      try {
        await convertToOnnx({ path: stories!.model, tokenizerPath: stories!.tokenizer }, join(work, 'stories260K'), {
          quantize: 'f32',
        });
        env.allowRemoteModels = false;
        env.allowLocalModels = true;
        env.localModelPath = `${work}/`;
        const golden = goldenContinuations.stories260K;
        const generator = await pipeline('text-generation', 'stories260K', { dtype: 'fp32', local_files_only: true });
        try {
          const output = (await generator(golden.prompt, { max_new_tokens: golden.ids.length, do_sample: false })) as {
            generated_text: string;
          }[];
          expect(output[0].generated_text).toBe(`${golden.prompt}${golden.text}`);
        } finally {
          await generator.dispose();
        }
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  },
);
