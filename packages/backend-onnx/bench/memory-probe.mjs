// Where the memory goes: RSS (VmRSS) and peak RSS (VmHWM) of an isolated child process at each stage of loading a
// model folder with slmkit's ONNX backend and decoding from it, plus the floor of Node + onnxruntime-node with a
// one-node session, measured in the same run. Each configuration runs in its own process.
// Needs the packages built:  pnpm --filter @slmkit/core --filter @slmkit/backend-onnx build
// usage: node packages/backend-onnx/bench/memory-probe.mjs --dir /tmp/slmkit-onnx-bench/134m [--dtype fp32|int8]
//        [--options '{"extra":{"session":{"disable_prepacking":"1"}}}'] [--backend '{"outputGarbageLimitMB":0,"cpuTuning":false}']
//        [--threads 1] [--tokens 128]
//        node packages/backend-onnx/bench/memory-probe.mjs --floor
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { minimalOnnxModel } from './minimal-onnx.mjs';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    floor: { type: 'boolean', default: false },
    dir: { type: 'string' },
    dtype: { type: 'string', default: 'fp32' },
    options: { type: 'string', default: '{}' },
    backend: { type: 'string', default: '{}' },
    threads: { type: 'string', default: '1' },
    prompt: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '128' },
  },
});

function memoryMB() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  const v8 = process.memoryUsage();
  return {
    rssMB: (kb('VmRSS') * 1024) / 1e6,
    peakMB: (kb('VmHWM') * 1024) / 1e6,
    heapMB: v8.heapTotal / 1e6,
    buffersMB: v8.arrayBuffers / 1e6,
  };
}

const stages = [];
const mark = (stage, extra = {}) => stages.push({ stage, ...memoryMB(), ...extra });

async function floorChild(file) {
  mark('node started');
  const ort = await import('onnxruntime-node');
  mark('onnxruntime-node imported');
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  mark('minimal session created');
  await session.run({ x: new ort.Tensor('float32', new Float32Array(1), [1]) });
  mark('minimal session run');
  await session.release();
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

async function modelChild() {
  mark('node started');
  await import('onnxruntime-node');
  mark('onnxruntime-node imported');
  const { createOnnxBackend } = await import('@slmkit/backend-onnx');
  mark('@slmkit/backend-onnx imported');
  const backend = createOnnxBackend({
    threads: Number(values.threads),
    dtype: values.dtype,
    sessionOptions: JSON.parse(values.options),
    ...JSON.parse(values.backend),
  });
  let t = performance.now();
  const model = await backend.load(values.dir);
  mark('session created', { ms: performance.now() - t });
  const sequence = await model.createSequence();
  const ids = [1];
  for (let i = 1; i < Number(values.prompt); i++) ids.push(3 + ((i * 37) % Math.min(model.spec.vocabSize - 3, 500)));
  t = performance.now();
  let token = argmax((await sequence.forward(ids)).last());
  mark('prompt run', { ms: performance.now() - t });
  const decodeStart = performance.now();
  const cpuStart = process.cpuUsage();
  const tokens = Number(values.tokens);
  for (let i = 1; i < tokens; i++) {
    token = argmax((await sequence.forward([token])).last());
    if (i === 16) mark('16 tokens decoded');
  }
  const cpu = process.cpuUsage(cpuStart);
  mark(`${tokens - 1} tokens decoded`, {
    ms: performance.now() - decodeStart,
    tokensPerCpuSecond: ((tokens - 1) / (cpu.user + cpu.system)) * 1e6,
  });
  await backend.dispose();
  mark('disposed');
}

if (values.child === 'floor') {
  await floorChild(values.dir);
  console.log(JSON.stringify(stages));
} else if (values.child === 'model') {
  await modelChild();
  console.log(JSON.stringify(stages));
} else {
  const self = fileURLToPath(import.meta.url);
  const runChild = (args) => {
    const out = execFileSync(process.execPath, [self, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.trim().split('\n').pop());
  };
  const print = (title, rows) => {
    process.stdout.write(`${title}\n`);
    for (const r of rows) {
      const extra = [
        r.ms !== undefined ? `${r.ms.toFixed(0)} ms` : '',
        r.tokensPerCpuSecond !== undefined ? `${r.tokensPerCpuSecond.toFixed(1)} tok/CPU s` : '',
      ].join(' ');
      process.stdout.write(
        `  ${r.stage.padEnd(32)} RSS ${r.rssMB.toFixed(0).padStart(5)} MB  peak ${r.peakMB.toFixed(0).padStart(5)} MB  (V8 heap ${r.heapMB.toFixed(0).padStart(4)}, array buffers ${r.buffersMB.toFixed(0).padStart(4)})  ${extra}\n`,
      );
    }
  };
  const floorFile = join(tmpdir(), 'slmkit-minimal.onnx');
  writeFileSync(floorFile, minimalOnnxModel());
  print('floor: node + onnxruntime-node + a one-node session', runChild(['--child', 'floor', '--dir', floorFile]));
  if (!values.floor) {
    const file = join(values.dir, values.dtype === 'int8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx');
    const fileMB = (statSync(file).size + (existsSync(`${file}_data`) ? statSync(`${file}_data`).size : 0)) / 1e6;
    const args = ['--child', 'model', '--dir', values.dir, '--dtype', values.dtype, '--options', values.options];
    args.push('--backend', values.backend);
    args.push('--threads', values.threads, '--prompt', values.prompt, '--tokens', values.tokens);
    print(
      `${values.dir} ${values.dtype} (file ${fileMB.toFixed(1)} MB, budget ${(1.3 * fileMB + 100).toFixed(0)} MB), session options ${values.options}, backend options ${values.backend}`,
      runChild(args),
    );
  }
}
