import { it } from 'vitest';
import { loadRecipe, runRecipe } from '../src/training/recipe.js';

it('recipe', async () => {
  const recipe = await loadRecipe(process.env.RECIPE ?? 'default');
  const out = process.env.OUT_DIR ?? '/tmp/slmkit-recipe-smoke';
  const steps = process.env.STEPS ? Number(process.env.STEPS) : undefined;
  const started = performance.now();
  let last = 0;
  const r = await runRecipe(recipe, {
    outDir: out,
    resume: process.env.RESUME === '1',
    trainOverrides: steps ? { steps } : {},
    onStage: (s, d) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${s}: ${d}\n`),
    onProgress: (p) => {
      if (p.event !== 'step' && p.event !== 'eval') return;
      if (p.event === 'eval' || performance.now() - last > 30_000) {
        last = performance.now();
        process.stderr.write(
          `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)}${p.valLoss ? ` val ${p.valLoss.toFixed(3)}` : ''} ${p.tokensPerSecond.toFixed(0)} tok/s eta ${p.etaSeconds.toFixed(0)}s\n`,
        );
      }
    },
  });
  process.stderr.write(
    `${JSON.stringify({ metrics: r.metricsPath, hf: r.hfFolder, gguf: r.gguf, seconds: (performance.now() - started) / 1000 })}\n`,
  );
});
