/**
 * Training throughput (tokens/s) of the ~1M and ~10M presets on tfjs-wasm and tfjs-cpu, in one run.
 *   npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts train-speed
 * SLMKIT_BENCH_PRESETS=1m,10m  SLMKIT_BENCH_KERNELS=wasm,cpu  SLMKIT_BENCH_BATCH=16  SLMKIT_BENCH_SEQ=128
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parameterCount } from '@slmkit/core';
import { it } from 'vitest';
import { specFromPreset, type TrainPresetName } from '../src/training/train-presets.js';
import { trainModel } from '../src/training/trainer.js';

it('training speed', async () => {
  const presets = (process.env.SLMKIT_BENCH_PRESETS ?? '1m,10m').split(',') as TrainPresetName[];
  const kernels = (process.env.SLMKIT_BENCH_KERNELS ?? 'wasm,cpu').split(',') as Array<'wasm' | 'cpu'>;
  const batchSize = Number(process.env.SLMKIT_BENCH_BATCH ?? 16);
  const seqLen = Number(process.env.SLMKIT_BENCH_SEQ ?? 128);
  const vocab = 4096;
  const tokens = new Int32Array(batchSize * seqLen * 8 + 1).map((_, i) => (i * 2654435761) % vocab);
  for (const preset of presets) {
    const spec = specFromPreset(preset, vocab, `bench-${preset}`);
    for (const kernel of kernels) {
      const steps = kernel === 'cpu' || preset !== '1m' ? 3 : 6;
      const outDir = await mkdtemp(join(tmpdir(), 'slmkit-bench-'));
      // one warm-up step, then the measured ones (trainModel reports tokens/s over its own steps)
      await trainModel({
        spec,
        config: { seqLen, batchSize, steps: 1, checkpointEvery: 1000 },
        train: tokens,
        outDir,
        kernelBackend: kernel,
      });
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const result = await trainModel({
        spec,
        config: { seqLen, batchSize, steps, checkpointEvery: 1000, logEvery: 1000 },
        train: tokens,
        outDir,
        kernelBackend: kernel,
      });
      const used = process.cpuUsage(cpu);
      const cpuSeconds = (used.user + used.system) / 1e6;
      const wallSeconds = (performance.now() - wall) / 1000;
      await rm(outDir, { recursive: true, force: true });
      process.stdout.write(
        `${JSON.stringify({ preset, parameters: parameterCount(spec), kernel, batch: `${batchSize}x${seqLen}`, steps, tokensPerSecond: Math.round(result.tokensPerSecond), tokensPerCpuSecond: Math.round((steps * batchSize * seqLen) / cpuSeconds), cpuShare: Number((cpuSeconds / wallSeconds).toFixed(2)), loadAverage: (await import('node:os')).loadavg()[0] })}\n`,
      );
    }
  }
});
