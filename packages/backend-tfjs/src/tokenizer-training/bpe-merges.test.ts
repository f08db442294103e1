import { describe, expect, it } from 'vitest';
import { learnBpeMerges } from './bpe-merges.js';

/** Textbook BPE: recount every pair from scratch before each merge (slow, obviously correct). */
function naiveMerges(words: number[][], counts: number[], symbols: number, maxMerges: number, minFrequency: number) {
  const ws = words.map((w) => [...w]);
  const merges: Array<[number, number]> = [];
  let next = symbols;
  while (merges.length < maxMerges) {
    const pc = new Map<string, number>();
    ws.forEach((w, i) => {
      for (let j = 0; j + 1 < w.length; j++) {
        const k = `${w[j]},${w[j + 1]}`;
        pc.set(k, (pc.get(k) ?? 0) + counts[i]);
      }
    });
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [k, c] of pc) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (!best || bestCount < minFrequency) break;
    merges.push(best);
    const s = next++;
    for (let i = 0; i < ws.length; i++) {
      const out: number[] = [];
      for (let j = 0; j < ws[i].length; j++) {
        if (j + 1 < ws[i].length && ws[i][j] === best[0] && ws[i][j + 1] === best[1]) {
          out.push(s);
          j++;
        } else out.push(ws[i][j]);
      }
      ws[i] = out;
    }
  }
  return merges;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('learnBpeMerges', () => {
  it('learns the textbook merges of Sennrich et al. (low, lower, newest, widest)', () => {
    const alphabet = ['d', 'e', 'i', 'l', 'n', 'o', 'r', 's', 't', 'w'];
    const id = (ch: string) => alphabet.indexOf(ch);
    const corpus: Array<[string, number]> = [
      ['low', 5],
      ['lower', 2],
      ['newest', 6],
      ['widest', 3],
    ];
    const learned = learnBpeMerges(
      { words: corpus.map(([w]) => Int32Array.from([...w].map(id))), counts: corpus.map(([, c]) => c) },
      alphabet,
      { maxMerges: 4, minFrequency: 2 },
    );
    // e+s and s+t both occur 9 times; the smaller pair (e,s) goes first, then es+t (9), then l+o (7), lo+w (7).
    expect(learned.symbols.slice(alphabet.length)).toEqual(['es', 'est', 'lo', 'low']);
  });

  it('matches a full-recount BPE on random corpora, repeated symbols included', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = lcg(seed);
      const symbols = 2 + Math.floor(rand() * 4);
      const words: number[][] = [];
      const counts: number[] = [];
      for (let i = 0; i < 40; i++) {
        const len = 1 + Math.floor(rand() * 9);
        words.push(Array.from({ length: len }, () => Math.floor(rand() * symbols)));
        counts.push(1 + Math.floor(rand() * 5));
      }
      const initial = Array.from({ length: symbols }, (_, i) => String.fromCharCode(97 + i));
      const expected = naiveMerges(words, counts, symbols, 60, 2);
      const learned = learnBpeMerges({ words: words.map((w) => Int32Array.from(w)), counts: [...counts] }, initial, {
        maxMerges: 60,
        minFrequency: 2,
      });
      expect(learned.merges, `seed ${seed}`).toEqual(expected);
    }
  });

  it('stops early when no pair is frequent enough', () => {
    const learned = learnBpeMerges({ words: [Int32Array.from([0, 1])], counts: [1] }, ['a', 'b'], {
      maxMerges: 5,
      minFrequency: 2,
    });
    expect(learned.merges).toEqual([]);
  });

  it('skips a merge whose string is already taken', () => {
    const learned = learnBpeMerges({ words: [Int32Array.from([0, 1, 2])], counts: [3] }, ['a', 'b', 'c'], {
      maxMerges: 5,
      minFrequency: 1,
      isTaken: (s) => s === 'ab',
    });
    expect(learned.symbols.slice(3)).toEqual(['bc', 'abc']);
  });

  it('honours an aborted signal', () => {
    const controller = new AbortController();
    controller.abort();
    expect(() =>
      learnBpeMerges({ words: [Int32Array.from([0, 1])], counts: [4] }, ['a', 'b'], {
        maxMerges: 1,
        minFrequency: 1,
        signal: controller.signal,
      }),
    ).toThrow(/aborted/);
  });
});
