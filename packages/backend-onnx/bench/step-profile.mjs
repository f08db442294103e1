// Where the time of one decode step goes, in one process on one session: slmkit's `sequence.forward` against the
// bare `session.run` calls it is made of, and against the memory bandwidth the weights need.
//  - read bandwidth: Buffer.compare over two buffers of half the weights each (memcmp reads every byte once)
//  - run, logits only: session.run fetching only `logits` (ORT still computes present.*; nothing else is copied
//    back, the cache is not advanced): the kernels' cost
//  - run, presents pre-allocated: what OnnxSequence runs (ORT writes present.* into our buffers, and
//    onnxruntime-node 1.30 still returns a copy of every output in a new ArrayBuffer)
//  - run, share-buffer (GroupQueryAttention graphs only): past and present are one max-length buffer, so the
//    kernel appends the new position instead of copying the past (the output copy is then max-length)
//  - sequence.forward: the whole backend step (tensors, run, logits copy)
// Modes are interleaved, `--repeat` times; prints CPU ms per token (process CPU time / tokens) for each.
// Needs the packages built:  pnpm --filter @slmkit/core --filter @slmkit/backend-onnx build
// usage: node packages/backend-onnx/bench/step-profile.mjs --dir /tmp/slmkit-onnx-bench/134m [--tokens 64]
//        [--repeat 3] [--share-buffer]
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createOnnxBackend } from '@slmkit/backend-onnx';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    tokens: { type: 'string', default: '64' },
    repeat: { type: 'string', default: '3' },
    'share-buffer': { type: 'boolean', default: false },
  },
});
const steps = Number(values.tokens);
const file = join(values.dir, 'onnx/model.onnx');
const weightBytes = statSync(file).size + (existsSync(`${file}_data`) ? statSync(`${file}_data`).size : 0);

// The bare loops drive the Optimum graph (model.onnx); `sequence.forward` runs both layouts.
const backend = createOnnxBackend({ threads: 1, dtype: 'fp32', kvLayout: 'optimum' });
const model = await backend.load(values.dir);
const slotsModel = existsSync(join(values.dir, 'onnx/model_slots.onnx'))
  ? await createOnnxBackend({ threads: 1, dtype: 'fp32', kvLayout: 'slots' }).load(values.dir)
  : undefined;
const session = model.session;
const layers = model.spec.nLayers;
const heads = model.spec.nKvHeads;
const headDim = model.spec.dim / model.spec.nHeads;
const vocab = model.spec.vocabSize;
const capacity = 32 + steps;
const prompt = [1];
for (let i = 1; i < 32; i++) prompt.push(3 + ((i * 37) % 500));

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** A bare decode loop over `session`: returns CPU ms per decoded token. */
async function bareLoop(mode) {
  const size = heads * capacity * headDim;
  const buffers = [0, 1].map(() => Array.from({ length: 2 * layers }, () => new Float32Array(size)));
  const logits = new Float32Array(32 * vocab);
  const ones = new BigInt64Array(capacity).fill(1n);
  let past = 0;
  let current = 0;
  const step = async (ids) => {
    const n = ids.length;
    const total = past + n;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
      attention_mask: new ort.Tensor('int64', ones.subarray(0, total), [1, total]),
    };
    if (session.inputNames.includes('position_ids')) {
      feeds.position_ids = new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (_, i) => BigInt(past + i)),
        [1, n],
      );
    }
    const fetches = { logits: new ort.Tensor('float32', logits.subarray(0, n * vocab), [1, n, vocab]) };
    for (let i = 0; i < 2 * layers; i++) {
      const name = `${Math.floor(i / 2)}.${i % 2 ? 'value' : 'key'}`;
      if (mode === 'share') {
        const dims = [1, heads, capacity, headDim];
        feeds[`past_key_values.${name}`] = new ort.Tensor('float32', buffers[0][i], dims);
        fetches[`present.${name}`] = new ort.Tensor('float32', buffers[0][i], dims);
      } else {
        const from = buffers[current][i].subarray(0, heads * past * headDim);
        feeds[`past_key_values.${name}`] = new ort.Tensor('float32', from, [1, heads, past, headDim]);
        const to = buffers[1 - current][i].subarray(0, heads * total * headDim);
        if (mode !== 'logits' || n > 1)
          fetches[`present.${name}`] = new ort.Tensor('float32', to, [1, heads, total, headDim]);
      }
    }
    await session.run(feeds, fetches);
    if (mode !== 'share' && (mode !== 'logits' || n > 1)) current = 1 - current;
    if (mode !== 'logits' || n > 1) past = total;
    return argmax(logits.subarray((n - 1) * vocab, n * vocab));
  };
  let token = await step(prompt);
  const start = process.cpuUsage();
  for (let i = 0; i < steps; i++) token = await step([token]);
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / 1000 / steps;
}

async function forwardLoop(loaded = model) {
  const sequence = await loaded.createSequence();
  let token = argmax((await sequence.forward(prompt)).last());
  const start = process.cpuUsage();
  for (let i = 0; i < steps; i++) token = argmax((await sequence.forward([token])).last());
  const cpu = process.cpuUsage(start);
  await sequence.dispose();
  return (cpu.user + cpu.system) / 1000 / steps;
}

function bandwidth() {
  const half = Math.floor(weightBytes / 2);
  const a = Buffer.alloc(half, 1);
  const b = Buffer.alloc(half, 1);
  Buffer.compare(a, b);
  const start = process.cpuUsage();
  Buffer.compare(a, b);
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / 1000;
}

// Only graphs whose attention is ORT's GroupQueryAttention (slmkit's fused exports with head sizes that are multiples
// of 16, e.g. the 134M preset) can share the past and present buffers.
const gqa = values['share-buffer'];
const modes = {
  [`read ${(weightBytes / 1e6).toFixed(0)} MB (memcmp)`]: bandwidth,
  'run, logits only': () => bareLoop('logits'),
  'run, presents pre-allocated': () => bareLoop('presents'),
  ...(gqa ? { 'run, share-buffer': () => bareLoop('share') } : {}),
  'sequence.forward (Optimum graph)': () => forwardLoop(model),
  ...(slotsModel ? { 'sequence.forward (KV-slot graph)': () => forwardLoop(slotsModel) } : {}),
};
const results = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
for (let r = 0; r < Number(values.repeat); r++) {
  for (const [name, fn] of Object.entries(modes)) results[name].push(await fn());
}
await backend.dispose();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${values.dir}: CPU ms per token (${steps} tokens after 32), median of ${values.repeat} interleaved repeats`,
);
for (const [name, xs] of Object.entries(results)) {
  console.log(
    `  ${name.padEnd(32)} ${median(xs).toFixed(2).padStart(8)}   (${xs.map((x) => x.toFixed(2)).join(', ')})`,
  );
}
