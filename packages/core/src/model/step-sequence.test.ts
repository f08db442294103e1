import { describe, expect, it } from 'vitest';
import { SlmError } from '../errors/index.js';
import { StepSequence, type TokenStepper } from './step-sequence.js';

/** A stepper whose "logits" record the token and position of the last step. */
class RecordingStepper implements TokenStepper {
  steps: Array<[number, number]> = [];
  step(token: number, position: number): void {
    this.steps.push([token, position]);
  }
  writeLogits(out: Float32Array): void {
    const [token, position] = this.steps[this.steps.length - 1];
    out.fill(0);
    out[0] = token;
    out[1] = position;
  }
}

describe('StepSequence', () => {
  it('steps each token at its position and returns the rows asked for', async () => {
    const stepper = new RecordingStepper();
    const seq = new StepSequence(stepper, 4, 8);
    const last = await seq.forward([3, 1, 2]);
    expect(last.positions).toEqual([2]);
    expect(Array.from(last.last())).toEqual([2, 2, 0, 0]);
    const all = await seq.forward([0, 1], { logits: 'all' });
    expect(all.positions).toEqual([3, 4]);
    expect(stepper.steps).toEqual([
      [3, 0],
      [1, 1],
      [2, 2],
      [0, 3],
      [1, 4],
    ]);
    expect(seq.tokens).toEqual([3, 1, 2, 0, 1]);
    expect(seq.counters).toEqual({ evaluatedTokens: 5, forwardCalls: 2 });
    expect((await seq.forward([2], { logits: 'none' })).positions).toEqual([]);
  });

  it('truncates and resets the token list; the next step reuses the position', async () => {
    const stepper = new RecordingStepper();
    const seq = new StepSequence(stepper, 4, 8);
    await seq.forward([1, 2, 3]);
    await seq.truncate(1);
    await seq.forward([3]);
    expect(stepper.steps.at(-1)).toEqual([3, 1]);
    await expect(seq.truncate(5)).rejects.toBeInstanceOf(SlmError);
    await seq.reset();
    expect(seq.tokens).toEqual([]);
  });

  it('rejects input beyond the context or the vocabulary, and any use after dispose', async () => {
    const seq = new StepSequence(new RecordingStepper(), 4, 2);
    await expect(seq.forward([1, 2, 3])).rejects.toBeInstanceOf(SlmError);
    await expect(seq.forward([4])).rejects.toBeInstanceOf(SlmError);
    await seq.dispose();
    await expect(seq.forward([1])).rejects.toThrow(/disposed/);
  });
});
