import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertToGguf, createLlamaCppBackend } from '@slmkit/backend-llamacpp';
import { convertToOnnx, createOnnxBackend } from '@slmkit/backend-onnx';
import { createTfjsBackend, loadClassifier, TfjsClassifier } from '@slmkit/backend-tfjs';
import { type Backend, type ModelInput, parseLabelledTsv, TextClassifier } from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';
import { SHARED_MISSING_REASON, sharedPath } from '@slmkit/core/testing/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { predictionAgreement } from './metrics/classification.js';

/**
 * The committed SST-2 classifiers (packages/bench/models, trained by scripts/train-sst2-classifiers.sh) label the 872
 * SST-2 dev sentences the same on every backend that can embed as backend-tfjs's batched classifier does.
 */
const here = dirname(fileURLToPath(import.meta.url));
const modelsDir = join(here, '..', 'models');
const out = mkdtempSync(join(tmpdir(), 'slmkit-sst2-agree-'));
const backends: Backend[] = [];
afterAll(async () => {
  for (const b of backends) await b.dispose();
  await rm(out, { recursive: true, force: true });
});

const MIN_AGREEMENT = 0.995;

describe.each(['sst2-student', 'sst2-teacher'])('%s across backends', (name) => {
  it('gives the same dev predictions on every backend whose capabilities say embeddings', async () => {
    const devFile = sharedPath('datasets', 'sst2', 'dev.tsv');
    if (!devFile) {
      console.info(SHARED_MISSING_REASON);
      return;
    }
    const dir = join(modelsDir, name);
    expect(existsSync(dir), `${dir} (run packages/bench/scripts/train-sst2-classifiers.sh)`).toBe(true);
    const rows = parseLabelledTsv(await readFile(devFile, 'utf8'), { file: devFile, labels: ['0', '1'] });
    const texts = rows.map((r) => r.text);
    const { data, head } = await loadClassifier(dir);
    const tfjsClassifier = await TfjsClassifier.create(data, head);
    const expected = (await tfjsClassifier.classify(texts, { batchSize: 64 })).map((p) => p.label);
    tfjsClassifier.dispose();
    const accuracy = expected.filter((l, i) => l === rows[i].label).length / rows.length;
    const candidates: [Backend, () => Promise<ModelInput>][] = [
      [createReferenceBackend(), async () => dir],
      [createTfjsBackend(), async () => dir],
      [
        createLlamaCppBackend({ threads: 1 }),
        async () => (await convertToGguf(dir, join(out, `${name}.gguf`), { quantize: 'f32' })).path,
      ],
      [
        createOnnxBackend({ threads: 1, dtype: 'fp32' }),
        async () => {
          await convertToOnnx(dir, join(out, `${name}-onnx`), { quantize: 'f32' });
          return join(out, `${name}-onnx`);
        },
      ],
    ];
    const lines = [`${name}: tfjs classifier dev accuracy ${(accuracy * 100).toFixed(2)}%`];
    let compared = 0;
    for (const [backend, input] of candidates) {
      backends.push(backend);
      if (!backend.capabilities.embeddings) {
        lines.push(`  ${backend.name}: skipped (capabilities.embeddings is false)`);
        continue;
      }
      const started = performance.now();
      const model = await backend.load(await input(), { contextSize: head.maxLength ?? data.spec.contextLength });
      try {
        const labels = (await new TextClassifier(model, head).classify(texts)).map((p) => p.label);
        const agreement = predictionAgreement(expected, labels);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        lines.push(
          `  ${backend.name}: ${(agreement * 100).toFixed(2)}% of ${texts.length} dev predictions agree (${seconds} s with load)`,
        );
        expect(agreement, `${name} on ${backend.name}`).toBeGreaterThanOrEqual(MIN_AGREEMENT);
        compared++;
      } finally {
        await model.dispose();
      }
    }
    console.info(lines.join('\n'));
    expect(compared).toBeGreaterThanOrEqual(1);
  }, 600_000);
});
