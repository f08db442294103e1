import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlmError } from '../errors/index.js';
import { readGguf } from '../formats/gguf-reader.js';
import type { GgufValue } from '../formats/gguf-types.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { tokenizerFromGguf } from './gguf-vocab.js';
import { loadTokenizer } from './load-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/** mulberry32: deterministic variants. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutateBytes(bytes: Uint8Array, random: () => number): Uint8Array {
  if (random() < 0.4) return bytes.slice(0, Math.floor(random() * bytes.length));
  const copy = bytes.slice();
  const flips = 1 + Math.floor(random() * 4);
  for (let k = 0; k < flips; k++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
  return copy;
}

/** Loading either succeeds (and the tokenizer then works or throws typed errors) or throws an SlmError. */
function expectTypedOutcome(load: () => Tokenizer): 'ok' | 'error' {
  let tokenizer: Tokenizer;
  try {
    tokenizer = load();
  } catch (error) {
    if (!SlmError.isInstance(error)) throw error;
    return 'error';
  }
  try {
    const ids = tokenizer.encode('Once upon a time, Lily 🦙 saw 123 <s> 日本', { parseSpecialTokens: true });
    tokenizer.decode(ids);
  } catch (error) {
    if (!SlmError.isInstance(error)) throw error;
  }
  return 'ok';
}

const paths = stories260KPaths();
const suite = paths ? describe : describe.skip;

suite(`tokenizer fuzz${paths ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`, () => {
  const p = paths as NonNullable<typeof paths>;

  it('2,000 truncated / bit-flipped tokenizer.json files give typed errors or valid loads', () => {
    const bytes = new Uint8Array(readFileSync(join(p.hfOnnx, 'tokenizer.json')));
    const random = rng(1);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 2000; i++)
      outcomes[expectTypedOutcome(() => loadTokenizer({ tokenizerJson: mutateBytes(bytes, random) }))]++;
    expect(outcomes.ok + outcomes.error).toBe(2000);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  it('2,000 structurally mutated tokenizer.json objects give typed errors or valid loads', () => {
    const original = JSON.parse(readFileSync(join(p.hfOnnx, 'tokenizer.json'), 'utf8'));
    const random = rng(2);
    const replacements: unknown[] = [
      null,
      -1,
      1e12,
      0.5,
      'x',
      '',
      [],
      {},
      [1, 2],
      { type: 'Nope' },
      true,
      '(?<',
      { Regex: '(' },
    ];
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 2000; i++) {
      const json = structuredClone(original);
      // Walk to a random node and replace one of its fields.
      let node: Record<string, unknown> = json;
      for (let depth = 0; depth < 4; depth++) {
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[Math.floor(random() * keys.length)];
        const next = node[key];
        if (typeof next === 'object' && next !== null && random() < 0.7) node = next as Record<string, unknown>;
        else break;
      }
      const keys = Object.keys(node);
      if (keys.length > 0)
        node[keys[Math.floor(random() * keys.length)]] = replacements[Math.floor(random() * replacements.length)];
      outcomes[expectTypedOutcome(() => loadTokenizer({ tokenizerJson: json }))]++;
    }
    expect(outcomes.error).toBeGreaterThan(100);
  });

  it('2,000 truncated / bit-flipped SentencePiece .model files give typed errors or valid loads', () => {
    const bytes = new Uint8Array(readFileSync(p.tokenizerModel));
    const random = rng(3);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 2000; i++)
      outcomes[expectTypedOutcome(() => loadTokenizer({ sentencePieceModel: mutateBytes(bytes, random) }))]++;
    expect(outcomes.error).toBeGreaterThan(0);
  });

  it('GGUF tokenizer metadata with wrong types or out-of-range ids gives typed errors', () => {
    const file = sharedPath('vocab', 'ggml-vocab-gpt-2.gguf') as string;
    const metadata = readGguf(new Uint8Array(readFileSync(file))).metadata;
    const keys = [...metadata.keys()].filter((k) => k.startsWith('tokenizer.'));
    const bad: GgufValue[] = [
      { type: 8, value: 'x' },
      { type: 4, value: 4_000_000_000 },
      { type: 5, value: -5 },
      { type: 7, value: true },
      { type: 9, itemType: 8, value: [] },
      { type: 9, itemType: 6, value: [1.5] },
      { type: 9, itemType: 8, value: ['a b', 'c'] },
    ];
    let errors = 0;
    for (const key of keys) {
      for (const value of bad) {
        const copy = new Map(metadata);
        copy.set(key, value);
        if (expectTypedOutcome(() => tokenizerFromGguf(copy, file)) === 'error') errors++;
      }
    }
    expect(errors).toBeGreaterThan(keys.length);
  });
});
