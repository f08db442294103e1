// KV-slot decoder vs the Optimum graph, same weights, same process, interleaved: greedy 128 tokens after 32.
// usage: node packages/backend-onnx/bench/slots-vs-optimum.mjs [--models 24m,134m] [--dtype fp32|int8] [--repeat 3]

import { cpuUsage } from 'node:process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'stories260k,24m' },
    dtype: { type: 'string', default: 'fp32' },
    repeat: { type: 'string', default: '3' },
  },
});
const { createOnnxBackend } = await import('@slmkit/backend-onnx');
const { RANDOM_MODEL_PRESETS, createRandomModel } = await import('@slmkit/core/testing');
const { stories260KPaths } = await import('@slmkit/core/testing/shared');
const { loadModelData } = await import('@slmkit/core/node');

async function modelData(name) {
  if (name === 'stories260k') {
    const p = stories260KPaths();
    return loadModelData({ path: p.model, tokenizerPath: p.tokenizer });
  }
  return createRandomModel({ ...RANDOM_MODEL_PRESETS[name], seed: 1, tiedEmbeddings: false });
}

async function decode(model, prompt, steps) {
  const seq = await model.createSequence();
  let logits = (await seq.forward(prompt)).last();
  const ids = [];
  const c0 = cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
    ids.push(best);
    logits = (await seq.forward([best])).last();
  }
  const wall = performance.now() - t0;
  const c = cpuUsage(c0);
  await seq.dispose();
  return { ids, tokPerSec: (steps * 1000) / wall, tokPerCpuSec: (steps * 1e6) / (c.user + c.system) };
}

for (const name of values.models.split(',')) {
  const data = await modelData(name);
  const prompt = Array.from({ length: 32 }, (_, i) => (i * 7 + 3) % data.spec.vocabSize);
  const models = {};
  for (const layout of ['optimum', 'slots']) {
    const backend = createOnnxBackend({ kvLayout: layout, dtype: values.dtype, threads: 1 });
    models[layout] = await backend.load(data);
    await decode(models[layout], prompt, 16);
  }
  const rows = { optimum: [], slots: [] };
  let same = true;
  for (let r = 0; r < Number(values.repeat); r++) {
    const a = await decode(models.optimum, prompt, 128);
    const b = await decode(models.slots, prompt, 128);
    rows.optimum.push(a);
    rows.slots.push(b);
    same &&= a.ids.join() === b.ids.join();
  }
  const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const o = med(rows.optimum.map((r) => r.tokPerCpuSec));
  const s = med(rows.slots.map((r) => r.tokPerCpuSec));
  console.log(
    `${name} ${values.dtype}: optimum ${o.toFixed(1)} tok/CPU-s, slots ${s.toFixed(1)} (${(s / o).toFixed(2)}x; per repeat ${rows.slots.map((r, i) => (r.tokPerCpuSec / rows.optimum[i].tokPerCpuSec).toFixed(2)).join(' ')}); wall ${med(rows.optimum.map((r) => r.tokPerSec)).toFixed(1)} / ${med(rows.slots.map((r) => r.tokPerSec)).toFixed(1)}; same ids: ${same}`,
  );
  for (const m of Object.values(models)) await m.dispose();
}
