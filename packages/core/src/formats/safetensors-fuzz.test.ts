import { describe, expect, it } from 'vitest';
import { SlmError } from '../errors/index.js';
import { tensorToFloat32 } from '../model/tensor.js';
import { createRandomModel } from '../testing/random-model.js';
import { corruptedVariants } from './gguf-test-fixtures.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return SlmError.isInstance(error) ? 'typed' : `UNTYPED ${String(error)}`;
  }
}

/** Corruptions that keep the JSON parseable: numbers in the header replaced by hostile ones. */
function* jsonVariants(original: Uint8Array, count: number): Generator<{ label: string; bytes: Uint8Array }> {
  const headerLength = Number(new DataView(original.buffer).getBigUint64(0, true));
  const json = new TextDecoder().decode(original.subarray(8, 8 + headerLength));
  const numbers = [...json.matchAll(/\d+/g)];
  const hostile = [
    '0',
    '1',
    '4294967296',
    '9007199254740993',
    '1e308',
    '-1',
    '3.5',
    '"x"',
    'null',
    '[]',
    '99999999999',
  ];
  for (let i = 0; i < count; i++) {
    const m = numbers[(i * 7919) % numbers.length];
    const replacement = hostile[i % hostile.length];
    const text = json.slice(0, m.index) + replacement + json.slice((m.index ?? 0) + m[0].length);
    const header = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + header.length + (original.length - 8 - headerLength));
    new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
    out.set(header, 8);
    out.set(original.subarray(8 + headerLength), 8 + header.length);
    yield { label: `number ${m[0]} at ${m.index} -> ${replacement}`, bytes: out };
  }
}

describe('safetensors fuzz', () => {
  it('2,000 truncated / bit-flipped variants and 600 hostile-number headers give typed errors or valid reads', () => {
    const model = createRandomModel({ vocabSize: 300, dim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, ffnDim: 32 });
    const original = writeSafetensors({ tensors: [...model.weights], metadata: { format: 'pt' } });
    const headerEnd = 8 + Number(new DataView(original.buffer).getBigUint64(0, true));
    const counts: Record<string, number> = { ok: 0, typed: 0 };
    const untyped: string[] = [];
    const variants = [
      ...corruptedVariants(original, { count: 2000, seed: 7, hotEnd: headerEnd }),
      ...jsonVariants(original, 600),
    ];
    for (const { label, bytes } of variants) {
      const result = outcome(() => {
        const file = readSafetensors(bytes, 'fuzz.safetensors');
        for (const t of file.tensors) tensorToFloat32(file.readTensor(t.name));
      });
      if (result === 'ok' || result === 'typed') counts[result]++;
      else untyped.push(`${label}: ${result}`);
    }
    expect(untyped.slice(0, 10)).toEqual([]);
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts.typed).toBeGreaterThan(500);
  }, 30_000);
});
