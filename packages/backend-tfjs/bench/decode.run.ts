/**
 * Decode speed of the tfjs backend (wasm and cpu) on stories260K and on a random ~24M f32 model, with the
 * reference backend for scale. Prints one JSON line per measurement to stdout.
 *   npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts decode
 */
import type { Backend, ModelData, ModelInput } from '@slmkit/core';
import { loadModelData } from '@slmkit/core/node';
import { createRandomModel, RANDOM_MODEL_PRESETS } from '@slmkit/core/testing';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { it } from 'vitest';
import { createTfjsBackend } from '../src/tfjs-backend.js';

/** Tokens per wall-clock second and per second of this process's CPU time (robust to a shared, loaded machine). */
async function decodeTokensPerSecond(backend: Backend, input: ModelInput, tokens: number): Promise<[number, number]> {
  const model = await backend.load(input, { contextSize: Math.min(256, tokens + 8) });
  const seq = await model.createSequence();
  await seq.forward([1]);
  for (let i = 0; i < 4; i++) await seq.forward([(i * 7 + 3) % model.spec.vocabSize]);
  await seq.reset();
  await seq.forward([1]);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < tokens; i++) await seq.forward([(i * 13 + 5) % model.spec.vocabSize]);
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  await model.dispose();
  return [tokens / seconds, tokens / ((used.user + used.system) / 1e6)];
}

it('decode speed', async () => {
  const models: Array<[string, ModelData, number]> = [];
  const stories = stories260KPaths();
  if (stories)
    models.push(['stories260K', await loadModelData({ path: stories.model, tokenizerPath: stories.tokenizer }), 200]);
  const which = process.env.SLMKIT_BENCH_MODELS ?? 'stories260K,24m';
  if (which.includes('24m'))
    models.push(['random-24m-f32', createRandomModel({ ...RANDOM_MODEL_PRESETS['24m'], seed: 1 }), 48]);
  for (const [name, data, tokens] of models) {
    if (!which.includes(name.replace('random-', '').replace('-f32', ''))) continue;
    for (const kernel of ['wasm', 'cpu'] as const) {
      const [tps, perCpuSecond] = await decodeTokensPerSecond(
        createTfjsBackend({ backend: kernel }),
        data,
        kernel === 'cpu' && name !== 'stories260K' ? 16 : tokens,
      );
      process.stdout.write(
        `${JSON.stringify({ model: name, backend: `tfjs-${kernel}`, decodeTokensPerSecond: Math.round(tps), decodeTokensPerCpuSecond: Math.round(perCpuSecond), loadAverage: (await import('node:os')).loadavg()[0] })}\n`,
      );
    }
  }
});
