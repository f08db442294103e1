// Decode benchmark: slmkit's ONNX backend vs transformers.js on the same model folders, same threads.
// Greedy, 128 new tokens after a 32-token prompt; each engine/model runs in its own process (peak RSS).
// Needs the packages built:  pnpm --filter @slmkit/core --filter @slmkit/backend-onnx build
// usage: node packages/backend-onnx/bench/decode-bench.mjs [--threads 1] [--models stories260k,24m,134m]
//        [--work /tmp/slmkit-onnx-bench] [--repeat 1]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    models: { type: 'string', default: 'stories260k,24m,134m' },
    work: { type: 'string', default: '/tmp/slmkit-onnx-bench' },
    repeat: { type: 'string', default: '1' },
  },
});
const runner = fileURLToPath(new URL('./decode-run.mjs', import.meta.url));
const { convertToOnnx, exportOnnxFolder } = await import('@slmkit/backend-onnx');
const { RANDOM_MODEL_PRESETS, createRandomModel } = await import('@slmkit/core/testing');
const { stories260KPaths } = await import('@slmkit/core/testing/shared');

async function prepare(name) {
  const dir = join(values.work, name);
  if (existsSync(join(dir, 'onnx', 'model_quantized.onnx'))) return dir;
  process.stderr.write(`exporting ${name} -> ${dir}\n`);
  if (name === 'stories260k') {
    const paths = stories260KPaths();
    if (!paths) throw new Error('../shared is absent: stories260K is not available');
    await convertToOnnx({ path: paths.model, tokenizerPath: paths.tokenizer }, dir);
  } else {
    // Untied classifier: 24M and 134M parameters, as the presets are named (tied they would be 15M and 110M).
    const model = createRandomModel({ ...RANDOM_MODEL_PRESETS[name], seed: 1, tiedEmbeddings: false });
    await exportOnnxFolder(model, dir, { variants: ['fp32', 'int8'] });
  }
  return dir;
}

function run(engine, dir, dtype) {
  const out = execFileSync(
    process.execPath,
    [runner, '--engine', engine, '--dir', dir, '--dtype', dtype, '--threads', values.threads],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

function best(engine, dir, dtype) {
  let top;
  for (let i = 0; i < Number(values.repeat); i++) {
    const r = run(engine, dir, dtype);
    // Best of the repeats: the run least disturbed by other processes.
    if (!top || r.decodeTokensPerCpuSecond > top.decodeTokensPerCpuSecond) top = r;
  }
  return top;
}

const rows = [];
for (const name of values.models.split(',')) {
  const dir = await prepare(name);
  const dtypes = name === '134m' ? ['fp32', 'int8'] : ['fp32'];
  for (const dtype of dtypes) {
    for (const engine of ['slmkit', 'transformers']) {
      const r = best(engine, dir, dtype);
      rows.push({ model: name, ...r });
      process.stderr.write(
        `${name} ${dtype} ${engine}: ${r.decodeTokensPerSecond.toFixed(1)} tok/s (${r.decodeTokensPerCpuSecond.toFixed(1)} per CPU s, median ${r.medianTokensPerCpuSecond.toFixed(1)}), TTFT ${r.ttftMs.toFixed(1)} ms, peak RSS ${r.peakRssMB.toFixed(0)} MB (file ${r.fileMB.toFixed(1)} MB)\n`,
      );
    }
  }
}

const find = (model, engine, dtype) => rows.find((r) => r.model === model && r.engine === engine && r.dtype === dtype);
const summary = [];
for (const name of values.models.split(',')) {
  const ours = find(name, 'slmkit', 'fp32');
  const theirs = find(name, 'transformers', 'fp32');
  if (ours && theirs) {
    summary.push({
      model: name,
      speedupVsTransformersJs: ours.decodeTokensPerSecond / theirs.decodeTokensPerSecond,
      cpuSpeedupVsTransformersJs: ours.decodeTokensPerCpuSecond / theirs.decodeTokensPerCpuSecond,
      medianCpuSpeedupVsTransformersJs: ours.medianTokensPerCpuSecond / theirs.medianTokensPerCpuSecond,
      sameIds: JSON.stringify(ours.firstIds) === JSON.stringify(theirs.firstIds),
      rssBudgetMB: 1.3 * ours.fileMB + 100,
      peakRssMB: ours.peakRssMB,
    });
  }
  const int8 = find(name, 'slmkit', 'int8');
  if (ours && int8) {
    summary.push({
      model: name,
      int8VsFp32: int8.decodeTokensPerSecond / ours.decodeTokensPerSecond,
      cpuInt8VsFp32: int8.decodeTokensPerCpuSecond / ours.decodeTokensPerCpuSecond,
      medianCpuInt8VsFp32: int8.medianTokensPerCpuSecond / ours.medianTokensPerCpuSecond,
      int8PeakRssMB: int8.peakRssMB,
      int8RssBudgetMB: 1.3 * int8.fileMB + 100,
    });
  }
}
console.log(JSON.stringify({ threads: Number(values.threads), rows, summary }, null, 2));
