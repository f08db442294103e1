import { loadModelData } from '@slmkit/core/node';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { it } from 'vitest';
import { createTfjsBackend } from '../src/tfjs-backend.js';
import { importTf } from '../src/tfjs-runtime.js';

it('profile decode', async () => {
  const p = stories260KPaths();
  if (!p) return;
  const data = await loadModelData({ path: p.model, tokenizerPath: p.tokenizer });
  const model = await createTfjsBackend({ backend: (process.env.K as 'wasm' | 'cpu') ?? 'wasm' }).load(data);
  const seq = await model.createSequence();
  await seq.forward([1, 2, 3, 4, 5, 6, 7, 8]);
  const tf = await importTf();
  for (let i = 0; i < 20; i++) await seq.forward([9 + i]);
  const info = await tf.profile(async () => {
    await seq.forward([50]);
  });
  const byName = new Map<string, [number, number]>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    total += ms;
    const e = byName.get(k.name) ?? [0, 0];
    byName.set(k.name, [e[0] + ms, e[1] + 1]);
  }
  console.log('kernels', info.kernels.length, 'kernel ms', total.toFixed(2));
  console.log(
    [...byName]
      .sort((a, b) => b[1][0] - a[1][0])
      .map(([n, [ms, c]]) => `${n}: ${ms.toFixed(2)} (${c})`)
      .join('\n'),
  );
  const N = 100;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await seq.forward([60 + (i % 100)]);
  console.log('wall ms/token', ((performance.now() - t0) / N).toFixed(2));
});
