/**
 * Per-kernel breakdown of one training step (forward + backward, no optimizer) of a preset, and its wall time.
 *   B=16 K=wasm P=1m npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts profile-step
 */
import { it } from 'vitest';
import { activateTf } from '../src/tfjs-runtime.js';
import { specFromPreset, type TrainPresetName } from '../src/training/train-presets.js';
import { TrainRng } from '../src/training/train-rng.js';
import {
  createForwardConstants,
  createVariables,
  crossEntropy,
  forwardLogits,
  initialValues,
} from '../src/training/trainable-llama.js';

it('profile one training step', async () => {
  const tf = await activateTf((process.env.K as 'wasm' | 'cpu') ?? 'wasm');
  const spec = specFromPreset((process.env.P as TrainPresetName) ?? '1m', 4096);
  const params = createVariables(tf, spec, initialValues(spec, new TrainRng(1)));
  const T = 128;
  const c = createForwardConstants(tf, spec, T);
  const B = Number(process.env.B ?? 16);
  const ids = new Int32Array(B * T).map((_, i) => (i * 31) % 4096);
  const run = () =>
    tf.variableGrads(
      () => crossEntropy(tf, forwardLogits(tf, spec, params, ids, B, c), ids),
      [...params.variables.values()],
    );
  const r0 = run();
  tf.dispose([r0.value, ...Object.values(r0.grads)]);
  const info = await tf.profile(() => {
    const r = run();
    return [r.value, ...Object.values(r.grads)];
  });
  const byName = new Map<string, { ms: number; n: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    // customGrad wrappers ("forward") include their inner kernels
    if (k.name !== 'forward') total += ms;
    const e = byName.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n++;
    byName.set(k.name, e);
  }
  console.log(`kernels ${info.kernels.length}, total ms (without customGrad wrappers) ${total.toFixed(1)}`);
  console.log(
    [...byName]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 20)
      .map(([n, e]) => `${n} x${e.n}: ${e.ms.toFixed(1)} ms`)
      .join('\n'),
  );
  if (process.env.SHAPES)
    console.log(
      info.kernels
        .filter((k) => k.name === process.env.SHAPES)
        .map((k) => `${JSON.stringify(k.inputShapes)} ${Number(k.kernelTimeMs).toFixed(1)}`)
        .join('\n'),
    );
  // wall time and this process's CPU time (the latter is what a loaded machine distorts least)
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = run();
    tf.dispose([r.value, ...Object.values(r.grads)]);
    const c1 = process.cpuUsage(c0);
    cpus.push((c1.user + c1.system) / 1000);
    walls.push(performance.now() - t0);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `step (median of 5): wall ${median(walls).toFixed(0)} ms = ${Math.round((B * T) / (median(walls) / 1000))} tokens/s; ` +
      `cpu ${median(cpus).toFixed(0)} ms = ${Math.round((B * T) / (median(cpus) / 1000))} tokens/cpu-s; load ${(await import('node:os')).loadavg()[0].toFixed(2)}`,
  );
});
