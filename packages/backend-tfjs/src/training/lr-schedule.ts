/** Linear warmup to `peak`, then cosine decay to `min` at `totalSteps`. `step` counts from 1. */
export function learningRateAt(
  step: number,
  options: { peak: number; min: number; warmupSteps: number; totalSteps: number },
): number {
  const { peak, min, warmupSteps, totalSteps } = options;
  if (warmupSteps > 0 && step <= warmupSteps) return (peak * step) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}
