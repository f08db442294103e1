/**
 * Training throughput (tokens/s) of the ~1M and ~10M presets on tfjs-wasm and tfjs-cpu, in one run:
 *   flock /tmp/slmkit-measure.lock npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts train-speed
 * Env: SLMKIT_BENCH_PRESETS=1m,10m  SLMKIT_BENCH_KERNELS=wasm,cpu  SLMKIT_BENCH_SEQ=128  SLMKIT_BENCH_REPEATS=3
 *      SLMKIT_BENCH_BATCH=<n>[,<n>...] (default: the trainer's default batch; several values are interleaved)
 *
 * Each cell is one warm-up step, then a trainModel run whose own tokens/s (optimizer steps, no eval or checkpoint
 * I/O) is reported, with tokens per CPU-second of this process and its CPU share, the figures a loaded machine
 * distorts least. Cells are repeated round-robin (interleaved) and the median is printed. tfjs-cpu's kernels are
 * per-token loops whose speed does not depend on the batch, so cpu cells run a batch of at most 4 windows (at 10m a
 * full batch would take minutes per step), one measured step, and only once at 10m.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parameterCount } from '@slmkit/core';
import { it } from 'vitest';
import type { TfjsKernelBackend } from '../src/tfjs-runtime.js';
import { specFromPreset, type TrainPresetName } from '../src/training/train-presets.js';
import { DEFAULT_TRAIN_CONFIG, trainModel } from '../src/training/trainer.js';

interface Cell {
  preset: TrainPresetName;
  kernel: TfjsKernelBackend;
  batch: number;
  steps: number;
  runs: number;
}

interface Sample {
  tokensPerSecond: number;
  tokensPerCpuSecond: number;
  cpuShare: number;
  load: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

it('training speed', async () => {
  const presets = (process.env.SLMKIT_BENCH_PRESETS ?? '1m,10m').split(',') as TrainPresetName[];
  const kernels = (process.env.SLMKIT_BENCH_KERNELS ?? 'wasm,cpu').split(',') as TfjsKernelBackend[];
  const batches = (process.env.SLMKIT_BENCH_BATCH ?? String(DEFAULT_TRAIN_CONFIG.batchSize)).split(',').map(Number);
  const seqLen = Number(process.env.SLMKIT_BENCH_SEQ ?? 128);
  const repeats = Number(process.env.SLMKIT_BENCH_REPEATS ?? 3);
  const vocab = 4096;
  const cells: Cell[] = [];
  for (const preset of presets)
    for (const kernel of kernels)
      for (const batch of kernel === 'cpu' ? [Math.min(4, Math.max(...batches))] : batches)
        cells.push({
          preset,
          kernel,
          batch,
          steps: kernel === 'cpu' ? 1 : preset === '1m' ? 4 : 2,
          runs: kernel === 'cpu' && preset !== '1m' ? 1 : repeats,
        });
  const tokens = new Int32Array(Math.max(...batches) * seqLen * 8 + 1).map((_, i) => (i * 2654435761) % vocab);
  const samples = new Map<Cell, Sample[]>(cells.map((c) => [c, []]));
  for (let round = 0; round < repeats; round++) {
    for (const cell of cells) {
      if (round >= cell.runs) continue;
      const spec = specFromPreset(cell.preset, vocab, `bench-${cell.preset}`);
      const outDir = await mkdtemp(join(tmpdir(), 'slmkit-bench-'));
      const config = { seqLen, batchSize: cell.batch, checkpointEvery: 1000, logEvery: 1000 };
      try {
        await trainModel({ spec, config: { ...config, steps: 1 }, train: tokens, outDir, kernelBackend: cell.kernel });
        const cpu = process.cpuUsage();
        const wall = performance.now();
        const result = await trainModel({
          spec,
          config: { ...config, steps: cell.steps },
          train: tokens,
          outDir,
          kernelBackend: cell.kernel,
        });
        const used = process.cpuUsage(cpu);
        const cpuSeconds = (used.user + used.system) / 1e6;
        const wallSeconds = (performance.now() - wall) / 1000;
        const sample: Sample = {
          tokensPerSecond: result.tokensPerSecond,
          tokensPerCpuSecond: (cell.steps * cell.batch * seqLen) / cpuSeconds,
          cpuShare: cpuSeconds / wallSeconds,
          load: loadavg()[0],
        };
        samples.get(cell)?.push(sample);
        process.stdout.write(`${JSON.stringify({ round, ...cellLabel(cell, seqLen), ...rounded(sample) })}\n`);
      } finally {
        await rm(outDir, { recursive: true, force: true });
      }
    }
  }
  process.stdout.write('median per cell:\n');
  for (const cell of cells) {
    const s = samples.get(cell) ?? [];
    process.stdout.write(
      `${JSON.stringify({
        ...cellLabel(cell, seqLen),
        runs: s.length,
        parameters: parameterCount(specFromPreset(cell.preset, vocab)),
        ...rounded({
          tokensPerSecond: median(s.map((x) => x.tokensPerSecond)),
          tokensPerCpuSecond: median(s.map((x) => x.tokensPerCpuSecond)),
          cpuShare: median(s.map((x) => x.cpuShare)),
          load: median(s.map((x) => x.load)),
        }),
      })}\n`,
    );
  }
});

function cellLabel(cell: Cell, seqLen: number) {
  return { preset: cell.preset, kernel: cell.kernel, batch: `${cell.batch}x${seqLen}`, steps: cell.steps };
}

function rounded(s: Sample) {
  return {
    tokensPerSecond: Math.round(s.tokensPerSecond),
    tokensPerCpuSecond: Math.round(s.tokensPerCpuSecond),
    cpuShare: Number(s.cpuShare.toFixed(2)),
    load: Number(s.load.toFixed(2)),
  };
}
