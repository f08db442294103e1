import { createRandomModel, RANDOM_MODEL_PRESETS } from '@slmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { activateTf } from '../tfjs-runtime.js';
import { crossEntropy } from '../training/trainable-llama.js';
import { smoothedCrossEntropy, trainClassifier } from './train-classifier.js';

describe('label smoothing', () => {
  it('is the plain cross-entropy at 0 and mixes in the uniform target otherwise', async () => {
    const tf = await activateTf('cpu');
    const logits = tf.tensor2d([2, -1, 0.5, 0.5, -3, 4], [2, 3]);
    const targets = Int32Array.from([0, 2]);
    const plain = crossEntropy(tf, logits, targets).dataSync()[0];
    expect(smoothedCrossEntropy(tf, logits, targets, 0).dataSync()[0]).toBeCloseTo(plain, 6);
    // By hand: (1 - e) * CE + e * mean over rows of the mean over labels of -log p.
    const logp = tf.logSoftmax(logits).arraySync() as number[][];
    const uniform = logp.reduce((s, row) => s - row.reduce((a, b) => a + b, 0) / 3, 0) / 2;
    const e = 0.1;
    expect(smoothedCrossEntropy(tf, logits, targets, e).dataSync()[0]).toBeCloseTo((1 - e) * plain + e * uniform, 5);
    logits.dispose();
  });

  it('rejects a smoothing outside [0, 1)', async () => {
    await expect(
      trainClassifier({
        backbone: createRandomModel({ seed: 5, ...RANDOM_MODEL_PRESETS.tiny, tiedEmbeddings: true }),
        examples: [
          { text: 'a', label: 'x' },
          { text: 'b', label: 'y' },
        ],
        mode: 'full',
        labelSmoothing: 1,
      }),
    ).rejects.toMatchObject({ field: 'labelSmoothing' });
  });
});
