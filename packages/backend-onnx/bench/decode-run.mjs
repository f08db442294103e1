// One engine, one model folder, one process (so peak RSS is this engine's own). Prints one JSON line.
// usage: node decode-run.mjs --engine slmkit|transformers --dir <folder> --dtype fp32|int8 --threads N
//        [--prompt 32] [--tokens 128] [--cpu-tuning true|false]
//        node decode-run.mjs --engine floor   (Node + onnxruntime-node + a one-node session: the memory floor)
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { minimalOnnxModel } from './minimal-onnx.mjs';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    dir: { type: 'string' },
    dtype: { type: 'string', default: 'fp32' },
    threads: { type: 'string', default: '1' },
    prompt: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '128' },
    'cpu-tuning': { type: 'string', default: 'true' },
  },
});
const threads = Number(values.threads);
const promptLength = Number(values.prompt);
const newTokens = Number(values.tokens);

/** A fixed 32-token prompt: BOS then ids from the middle of the vocabulary (valid for every model here). */
function promptIds(vocabSize) {
  const ids = [1];
  for (let i = 1; i < promptLength; i++) ids.push(3 + ((i * 37) % Math.min(vocabSize - 3, 500)));
  return ids;
}

/** Median CPU milliseconds between consecutive cpuUsage() samples (robust to other processes' bursts). */
function medianStepMs(samples) {
  const steps = [];
  for (let i = 1; i < samples.length; i++) {
    steps.push((samples[i].user + samples[i].system - samples[i - 1].user - samples[i - 1].system) / 1000);
  }
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

async function runSlmkit() {
  const { createOnnxBackend } = await import('@slmkit/backend-onnx');
  const backend = createOnnxBackend({ threads, dtype: values.dtype, cpuTuning: values['cpu-tuning'] !== 'false' });
  const model = await backend.load(values.dir);
  const sequence = await model.createSequence();
  const ids = promptIds(model.spec.vocabSize);
  const generated = [];
  const start = performance.now();
  let token = argmax((await sequence.forward(ids)).last());
  const firstToken = performance.now();
  const cpuAtFirst = process.cpuUsage();
  const cpus = [cpuAtFirst];
  generated.push(token);
  while (generated.length < newTokens) {
    token = argmax((await sequence.forward([token])).last());
    generated.push(token);
    cpus.push(process.cpuUsage());
  }
  const end = performance.now();
  const cpu = process.cpuUsage(cpuAtFirst);
  await backend.dispose();
  return {
    ttftMs: firstToken - start,
    decodeMs: end - firstToken,
    decodeCpuMs: (cpu.user + cpu.system) / 1000,
    medianTokenCpuMs: medianStepMs(cpus),
    generated,
  };
}

async function runTransformers() {
  const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(values.dir)}/`;
  const model = await AutoModelForCausalLM.from_pretrained(basename(values.dir), {
    dtype: values.dtype === 'int8' ? 'q8' : 'fp32',
    local_files_only: true,
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const vocab = model.config.vocab_size;
  const ids = promptIds(vocab);
  const times = [];
  const cpus = [];
  const streamer = {
    put: () => {
      times.push(performance.now());
      cpus.push(process.cpuUsage());
    },
    end: () => {},
  };
  const start = performance.now();
  const output = await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: newTokens,
    min_new_tokens: newTokens,
    do_sample: false,
    streamer,
  });
  const end = performance.now();
  const cpu = process.cpuUsage(cpus[1]);
  // put() is called once with the prompt, then once per new token.
  const firstToken = times[1] ?? end;
  const generated = Array.from(output.data.slice(ids.length), Number);
  await model.dispose();
  return {
    ttftMs: firstToken - start,
    decodeMs: end - firstToken,
    decodeCpuMs: (cpu.user + cpu.system) / 1000,
    medianTokenCpuMs: medianStepMs(cpus.slice(1)),
    generated,
  };
}

/**
 * Peak RSS of this process image in MB: VmHWM from /proc (getrusage's maxRSS would also count the forked parent,
 * since Linux carries it across exec).
 */
function peakRssMB() {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return (Number(match[1]) * 1024) / 1e6;
  } catch {}
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}

if (values.engine === 'floor') {
  // What every engine here pays before any model: Node, onnxruntime-node and one (minimal) session.
  const ort = await import('onnxruntime-node');
  const minimal = join(tmpdir(), `slmkit-minimal-${process.pid}.onnx`);
  writeFileSync(minimal, minimalOnnxModel());
  const session = await ort.InferenceSession.create(minimal, { intraOpNumThreads: threads, logSeverityLevel: 3 });
  await session.run({ x: new ort.Tensor('float32', new Float32Array(1), [1]) });
  await session.release();
  rmSync(minimal, { force: true });
  console.log(JSON.stringify({ engine: 'floor', threads, peakRssMB: peakRssMB() }));
  process.exit(0);
}

const file = join(values.dir, values.dtype === 'int8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx');
const fileBytes = statSync(file).size + (existsSync(`${file}_data`) ? statSync(`${file}_data`).size : 0);
const result = values.engine === 'transformers' ? await runTransformers() : await runSlmkit();
console.log(
  JSON.stringify({
    engine: values.engine,
    dir: values.dir,
    dtype: values.dtype,
    threads,
    fileMB: fileBytes / 1e6,
    ttftMs: result.ttftMs,
    decodeTokensPerSecond: ((result.generated.length - 1) / result.decodeMs) * 1000,
    // Per CPU second of this process: less sensitive than wall time to other processes on a shared machine.
    decodeTokensPerCpuSecond: ((result.generated.length - 1) / result.decodeCpuMs) * 1000,
    // 1000 / median CPU ms per decoded token.
    medianTokensPerCpuSecond: 1000 / result.medianTokenCpuMs,
    peakRssMB: peakRssMB(),
    generated: result.generated.length,
    firstIds: result.generated.slice(0, 8),
  }),
);
