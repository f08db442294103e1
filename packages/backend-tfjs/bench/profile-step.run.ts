import { it } from 'vitest';
import { activateTf } from '../src/tfjs-runtime.js';
import { specFromPreset } from '../src/training/train-presets.js';
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
  const spec = specFromPreset('1m', 4096);
  const params = createVariables(tf, spec, initialValues(spec, new TrainRng(1)));
  const c = createForwardConstants(tf, spec, 128);
  const B = 4;
  const ids = new Int32Array(B * 128).map((_, i) => (i * 31) % 4096);
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
  const byName = new Map<string, number>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    total += ms;
    byName.set(k.name, (byName.get(k.name) ?? 0) + ms);
  }
  console.log('kernels', info.kernels.length, 'total ms', total.toFixed(1));
  console.log(
    [...byName]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([n, ms]) => `${n}: ${ms.toFixed(1)}`)
      .join('\n'),
  );
  const big = info.kernels
    .filter((k) => k.name === 'BatchMatMul')
    .map((k) => `${JSON.stringify(k.inputShapes)} ${Number(k.kernelTimeMs).toFixed(1)}`);
  console.log(big.join('\n'));
  const t0 = performance.now();
  const r = run();
  tf.dispose([r.value, ...Object.values(r.grads)]);
  console.log('step wall ms', performance.now() - t0);
});
