import type { LoadedModel } from '@slmkit/core';

/** the largest absolute difference between two logit rows. */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** every logit row of a fresh sequence fed `chunks` in turn (a prefill, then steps). */
export async function logitRows(model: LoadedModel, chunks: number[][]): Promise<Float32Array[]> {
  const sequence = await model.createSequence();
  const rows: Float32Array[] = [];
  for (const chunk of chunks) {
    const logits = await sequence.forward(chunk, { logits: 'all' });
    for (let i = 0; i < logits.rows; i++) rows.push(logits.row(i).slice());
  }
  await sequence.dispose();
  return rows;
}
