import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readGguf } from '../formats/gguf-reader.js';
import { SHARED_MISSING_REASON, sharedPath } from '../testing/shared-data.js';
import { tokenizerFromGguf, tokenizerToGgufMetadata } from './gguf-vocab.js';
import type { Tokenizer } from './tokenizer.js';

const VOCABS = ['llama-spm', 'gpt-2', 'bert-bge'] as const;

function loadVectors(name: string): { tokenizer: Tokenizer; cases: Array<{ text: string; ids: number[] }> } {
  const base = sharedPath('vocab', `ggml-vocab-${name}.gguf`) as string;
  const bytes = new Uint8Array(readFileSync(base));
  const tokenizer = tokenizerFromGguf(readGguf(bytes, base).metadata, base);
  const inputs = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  if (inputs[inputs.length - 1] === '') inputs.pop();
  const outputs = readFileSync(`${base}.out`, 'utf8').split('\n');
  const cases = inputs.map((text, i) => ({
    text,
    ids: outputs[i]
      .trim()
      .split(/\s+/)
      .filter((s) => s.length > 0)
      .map(Number),
  }));
  return { tokenizer, cases };
}

const shared = sharedPath('vocab');
const suite = shared ? describe : describe.skip;

suite(`llama.cpp vocab vectors (../shared/vocab)${shared ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`, () => {
  for (const name of VOCABS) {
    it(`${name}: every .inp line tokenizes to its .out ids`, () => {
      const { tokenizer, cases } = loadVectors(name);
      expect(cases.length).toBeGreaterThan(30);
      const failures: string[] = [];
      for (const { text, ids } of cases) {
        const got = tokenizer.encode(text, { addSpecialTokens: false });
        if (JSON.stringify(got) !== JSON.stringify(ids))
          failures.push(`${JSON.stringify(text)}: got ${got.join(' ')} want ${ids.join(' ')}`);
      }
      expect(failures).toEqual([]);
    });

    if (name !== 'bert-bge') {
      it(`${name}: decode(encode(s)) == s`, () => {
        const { tokenizer, cases } = loadVectors(name);
        for (const { text } of cases)
          expect(tokenizer.decode(tokenizer.encode(text, { addSpecialTokens: false }))).toBe(text);
      });
    }

    it(`${name}: tokenizerToGgufMetadata round-trips to a tokenizer with the same ids`, () => {
      const { tokenizer, cases } = loadVectors(name);
      const again = tokenizerFromGguf(tokenizerToGgufMetadata(tokenizer));
      expect(again.kind).toBe(tokenizer.kind);
      expect(again.vocabSize).toBe(tokenizer.vocabSize);
      expect(again.special).toEqual(tokenizer.special);
      for (const { text, ids } of cases) expect(again.encode(text, { addSpecialTokens: false })).toEqual(ids);
    });
  }
});
