import { describe, expect, it } from 'vitest';
import { OutputGarbage } from './output-garbage.js';

describe('OutputGarbage', () => {
  it('collects each time the counted bytes reach the limit, then counts from zero', () => {
    let collections = 0;
    const garbage = new OutputGarbage(1000, () => collections++);
    for (let i = 0; i < 4; i++) garbage.add(300);
    expect(collections).toBe(1); // 1200 >= 1000 at the fourth add
    garbage.add(999);
    expect(collections).toBe(1);
    garbage.add(1);
    expect(collections).toBe(2);
    garbage.add(5000);
    expect(collections).toBe(3);
  });
});

describe('output buffers of onnxruntime-node', () => {
  it('are counted per run and trigger the runtime collection at the limit', async () => {
    const { createRandomModel } = await import('@slmkit/core/testing');
    const { OnnxBackend } = await import('./onnx-backend.js');
    const { nodeOrtRuntime } = await import('./runtime/ort-node.js');
    let collections = 0;
    const runtime = { ...nodeOrtRuntime, collectYoungGarbage: () => collections++ };
    // 0.01 MB: the tiny model's logits (300 floats) and keys/values add up to that within a few steps.
    const backend = new OnnxBackend({ runtime, outputGarbageLimitMB: 0.01 });
    const off = new OnnxBackend({ runtime, outputGarbageLimitMB: 0 });
    try {
      const data = createRandomModel({ seed: 2 });
      for (const [b, expectCollections] of [
        [off, false],
        [backend, true],
      ] as const) {
        collections = 0;
        const model = await b.load(data);
        const sequence = await model.createSequence();
        await sequence.forward([1, 2, 3]);
        for (let i = 0; i < 20; i++) await sequence.forward([4]);
        expect(collections > 0).toBe(expectCollections);
        // 20 steps of at least 1.2 KB of logits each: 24 KB, two collections or more at a 10 KB limit.
        if (expectCollections) expect(collections).toBeGreaterThanOrEqual(2);
      }
    } finally {
      await backend.dispose();
      await off.dispose();
    }
  });
});
