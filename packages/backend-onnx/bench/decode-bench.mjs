// Decode benchmark: slmkit's ONNX backend vs transformers.js on the same model folders, same threads.
// Greedy, 128 new tokens after a 32-token prompt; each engine/model runs in its own process (peak RSS). Repeats are
// interleaved; rows give medians over repeats (peak RSS: the maximum), ratios are per repeat (side by side).
// Needs the packages built:  pnpm --filter @slmkit/core --filter @slmkit/backend-onnx build
// usage: node packages/backend-onnx/bench/decode-bench.mjs [--threads 1] [--models stories260k,24m,134m]
//        [--work /tmp/slmkit-onnx-bench] [--repeat 1] [--cpu-tuning true|false]
// slmkit runs KV-slot graphs tuned for this CPU (cpu-tuning.ts), kept in <work>/cache unless SLMKIT_ONNX_CACHE_DIR
// says otherwise; the tuning (first load on a machine) is done while preparing, outside the measured runs.
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
    'cpu-tuning': { type: 'string', default: 'true' },
  },
});
process.env.SLMKIT_ONNX_CACHE_DIR ??= join(values.work, 'cache');
const runner = fileURLToPath(new URL('./decode-run.mjs', import.meta.url));
const { convertToOnnx, exportOnnxFolder } = await import('@slmkit/backend-onnx');
const { RANDOM_MODEL_PRESETS, createRandomModel } = await import('@slmkit/core/testing');
const { stories260KPaths } = await import('@slmkit/core/testing/shared');

async function prepare(name) {
  const dir = join(values.work, name);
  if (!existsSync(join(dir, 'onnx', 'model_slots_quantized.onnx'))) await exportModel(name, dir);
  if (values['cpu-tuning'] !== 'false') {
    // The first load on a machine tunes the fp32 graph (cached): done here, so no measured run pays for it.
    run('slmkit', dir, 'fp32', ['--tokens', '2']);
  }
  return dir;
}

async function exportModel(name, dir) {
  process.stderr.write(`exporting ${name} -> ${dir}\n`);
  if (name === 'stories260k') {
    const paths = stories260KPaths();
    if (!paths) throw new Error('../shared is absent: stories260K is not available');
    await convertToOnnx({ path: paths.model, tokenizerPath: paths.tokenizer }, dir);
  } else {
    // Untied classifier: 24M and 134M parameters, as the presets are named (tied they would be 15M and 110M).
    const model = createRandomModel({ ...RANDOM_MODEL_PRESETS[name], seed: 1, tiedEmbeddings: false });
    await exportOnnxFolder(model, dir, { variants: ['fp32', 'int8', 'slots', 'slots-int8'] });
  }
}

function run(engine, dir, dtype, extra = []) {
  const args = [
    runner,
    '--engine',
    engine,
    '--threads',
    values.threads,
    '--cpu-tuning',
    values['cpu-tuning'],
    ...extra,
  ];
  if (dir) args.push('--dir', dir, '--dtype', dtype);
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs) => [Math.min(...xs), Math.max(...xs)];

const names = values.models.split(',');
const dirs = {};
for (const name of names) dirs[name] = await prepare(name);
const cells = names.flatMap((name) =>
  (name === '134m' ? ['fp32', 'int8'] : ['fp32']).flatMap((dtype) =>
    ['slmkit', 'transformers'].map((engine) => ({ name, dtype, engine })),
  ),
);

// Interleaved: every repeat runs every cell once (slmkit and transformers.js of one model back to back), so the
// ratios of one repeat are measured side by side under the same load.
const runs = [];
const floors = [];
const repeats = Number(values.repeat);
for (let rep = 0; rep < repeats; rep++) {
  const floor = run('floor');
  floors.push(floor.peakRssMB);
  process.stderr.write(
    `repeat ${rep + 1}/${repeats}: floor (node + onnxruntime-node + minimal session) ${floor.peakRssMB.toFixed(0)} MB\n`,
  );
  for (const cell of cells) {
    const r = run(cell.engine, dirs[cell.name], cell.dtype);
    runs.push({ rep, model: cell.name, ...r });
    process.stderr.write(
      `  ${cell.name} ${cell.dtype} ${cell.engine}: ${r.decodeTokensPerSecond.toFixed(1)} tok/s (${r.decodeTokensPerCpuSecond.toFixed(1)} per CPU s, median ${r.medianTokensPerCpuSecond.toFixed(1)}), TTFT ${r.ttftMs.toFixed(1)} ms, peak RSS ${r.peakRssMB.toFixed(0)} MB (file ${r.fileMB.toFixed(1)} MB)\n`,
    );
  }
}

const pick = (model, engine, dtype) =>
  runs.filter((r) => r.model === model && r.engine === engine && r.dtype === dtype).sort((a, b) => a.rep - b.rep);
const rows = [];
for (const cell of cells) {
  const rs = pick(cell.name, cell.engine, cell.dtype);
  rows.push({
    model: cell.name,
    engine: cell.engine,
    dtype: cell.dtype,
    fileMB: rs[0].fileMB,
    decodeTokensPerSecond: median(rs.map((r) => r.decodeTokensPerSecond)),
    decodeTokensPerCpuSecond: median(rs.map((r) => r.decodeTokensPerCpuSecond)),
    medianTokensPerCpuSecond: median(rs.map((r) => r.medianTokensPerCpuSecond)),
    ttftMs: median(rs.map((r) => r.ttftMs)),
    peakRssMB: Math.max(...rs.map((r) => r.peakRssMB)),
    firstIds: rs[0].firstIds,
  });
}

/** Per-repeat ratios a/b of `metric` (side by side), their median and range. */
function ratios(a, b, metric) {
  const each = a.map((r, i) => r[metric] / b[i][metric]);
  return { median: median(each), range: range(each), each };
}

const summary = [];
for (const name of names) {
  const ours = pick(name, 'slmkit', 'fp32');
  const theirs = pick(name, 'transformers', 'fp32');
  if (ours.length && theirs.length) {
    const fileMB = ours[0].fileMB;
    summary.push({
      model: name,
      vsTransformersJs: {
        wall: ratios(ours, theirs, 'decodeTokensPerSecond'),
        cpu: ratios(ours, theirs, 'decodeTokensPerCpuSecond'),
        medianStepCpu: ratios(ours, theirs, 'medianTokensPerCpuSecond'),
        ttft: ratios(ours, theirs, 'ttftMs'),
      },
      sameIds: JSON.stringify(ours[0].firstIds) === JSON.stringify(theirs[0].firstIds),
      peakRssMB: Math.max(...ours.map((r) => r.peakRssMB)),
      rssBudgetMB: 1.3 * fileMB + 100,
      transformersPeakRssMB: Math.max(...theirs.map((r) => r.peakRssMB)),
    });
  }
  const int8 = pick(name, 'slmkit', 'int8');
  if (ours.length && int8.length) {
    summary.push({
      model: name,
      int8VsFp32: {
        wall: ratios(int8, ours, 'decodeTokensPerSecond'),
        cpu: ratios(int8, ours, 'decodeTokensPerCpuSecond'),
        medianStepCpu: ratios(int8, ours, 'medianTokensPerCpuSecond'),
      },
      int8PeakRssMB: Math.max(...int8.map((r) => r.peakRssMB)),
      int8RssBudgetMB: 1.3 * int8[0].fileMB + 100,
    });
  }
}
console.log(
  JSON.stringify(
    { threads: Number(values.threads), repeats, floorPeakRssMB: median(floors), rows, summary, runs },
    null,
    2,
  ),
);
