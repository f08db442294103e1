import { describe, expect, it } from 'vitest';
import { Deduplicator } from './deduplicator.js';
import { chooseBands, estimateJaccard, MinHasher, shingleWords } from './minhash.js';
import { assignSplit } from './split.js';

function trigramSet(text: string): Set<string> {
  const w = shingleWords(text);
  const out = new Set<string>();
  for (let i = 0; i + 3 <= w.length; i++) out.add(w.slice(i, i + 3).join(' '));
  return out;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

function words(n: number, seed: number): string[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return `w${s % 5000}`;
  });
}

describe('MinHash', () => {
  it('estimates Jaccard similarity within sampling error of the exact value', () => {
    const hasher = new MinHasher(256);
    const base = words(300, 7);
    for (const keep of [300, 240, 150, 60]) {
      const other = [...base.slice(0, keep), ...words(300 - keep, 99 + keep)];
      const a = base.join(' ');
      const b = other.join(' ');
      const exact = jaccard(trigramSet(a), trigramSet(b));
      // Standard error sqrt(J(1-J)/256) <= 0.031; allow ~3.5 sigma.
      expect(Math.abs(estimateJaccard(hasher.signature(a), hasher.signature(b)) - exact)).toBeLessThan(0.11);
    }
  });

  it('is deterministic across instances', () => {
    const text = words(50, 3).join(' ');
    expect(new MinHasher().signature(text)).toEqual(new MinHasher().signature(text));
  });

  it('chooses an LSH band layout whose S-curve sits below the threshold', () => {
    const { bands, rows } = chooseBands(128, 0.8);
    expect(bands * rows).toBe(128);
    const knee = (1 / bands) ** (1 / rows);
    expect(knee).toBeLessThan(0.8);
    expect(knee).toBeGreaterThan(0.4);
  });
});

describe('Deduplicator', () => {
  it('drops exact duplicates up to case and whitespace', () => {
    const d = new Deduplicator({ near: false });
    expect(d.check('Call me Ishmael.')).toBeUndefined();
    expect(d.check('call  me\nISHMAEL.')).toBe('exact');
    expect(d.check('Call me Queequeg.')).toBeUndefined();
  });

  it('drops near duplicates (one word changed) but keeps different documents', () => {
    const d = new Deduplicator();
    const base = words(200, 11);
    expect(d.check(base.join(' '))).toBeUndefined();
    const edited = [...base];
    edited[100] = 'changed';
    expect(d.check(edited.join(' '))).toBe('near');
    for (let seed = 20; seed < 60; seed++) expect(d.check(words(200, seed).join(' '))).toBeUndefined();
    // Half the text shared is well below the 0.8 threshold.
    expect(d.check([...base.slice(0, 100), ...words(100, 5)].join(' '))).toBeUndefined();
  });
});

describe('assignSplit', () => {
  it('is a deterministic function of the text, close to the requested fraction', () => {
    let val = 0;
    for (let i = 0; i < 20000; i++) if (assignSplit(`document ${i}`, 0.1) === 'val') val++;
    expect(val / 20000).toBeGreaterThan(0.09);
    expect(val / 20000).toBeLessThan(0.11);
    expect(assignSplit('same text', 0.5)).toBe(assignSplit('same text', 0.5));
    expect(assignSplit('anything', 0)).toBe('train');
    expect(assignSplit('anything', 1)).toBe('val');
    const a = Array.from({ length: 200 }, (_, i) => assignSplit(`d${i}`, 0.5, 1));
    const b = Array.from({ length: 200 }, (_, i) => assignSplit(`d${i}`, 0.5, 2));
    expect(a).not.toEqual(b);
  });
});
