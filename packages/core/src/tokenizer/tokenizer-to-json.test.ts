import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { readGguf } from '../formats/gguf-reader.js';
import { parseTokenizerJson } from '../formats/tokenizer-json.js';
import { loadTokenizerFile } from '../node/load-tokenizer-file.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { tokenizerFromGguf } from './gguf-vocab.js';
import type { Tokenizer } from './tokenizer.js';
import { tokenizerTestCorpus } from './tokenizer-corpus.js';
import { tokenizerToJson } from './tokenizer-to-json.js';

const shared = sharedPath('vocab');
const suite = shared ? describe : describe.skip;

function fromGguf(name: string): Tokenizer {
  const file = sharedPath('vocab', `ggml-vocab-${name}.gguf`) as string;
  return tokenizerFromGguf(readGguf(new Uint8Array(readFileSync(file)), file).metadata, file);
}

/** Serialises, loads the JSON in @huggingface/tokenizers and in our parser, and compares ids with the original. */
function checkRoundTrip(
  original: Tokenizer,
  lines: readonly string[],
  options: { decode: boolean; hfSkip?: RegExp; skip?: RegExp },
) {
  const files = tokenizerToJson(original);
  const text = JSON.parse(JSON.stringify(files)); // must survive JSON
  const hf = new HfTokenizer(text.tokenizerJson, text.tokenizerConfig);
  const ours = parseTokenizerJson({ tokenizerJson: text.tokenizerJson, tokenizerConfig: text.tokenizerConfig });
  expect(ours.vocabSize).toBe(original.vocabSize);
  expect(ours.addBos).toBe(original.addBos);
  const mismatches: string[] = [];
  for (const line of lines) {
    if (options.skip?.test(line)) continue;
    const want = original.encode(line, { addSpecialTokens: false });
    const viaHf = hf.encode(line, { add_special_tokens: false }).ids;
    const viaOurs = ours.encode(line, { addSpecialTokens: false });
    const hfDiffers = JSON.stringify(viaHf) !== JSON.stringify(want) && !options.hfSkip?.test(line);
    if (hfDiffers || JSON.stringify(viaOurs) !== JSON.stringify(want)) {
      mismatches.push(
        `${JSON.stringify(line)}\n want ${want.join(' ')}\n hf   ${viaHf.join(' ')}\n ours ${viaOurs.join(' ')}`,
      );
    }
    // @huggingface/tokenizers drops U+FEFF when decoding; slmkit (like llama.cpp) gives the bytes back.
    if (options.decode && want.length > 0 && !line.includes('\ufeff'))
      expect(hf.decode(want, { skip_special_tokens: true, clean_up_tokenization_spaces: false })).toBe(
        original.decode(want),
      );
  }
  expect(mismatches.slice(0, 3)).toEqual([]);
  // With special tokens, the template must add what the original adds.
  expect(hf.encode('Hello world').ids).toEqual(original.encode('Hello world'));
}

const corpus = tokenizerTestCorpus(1000, 99);

suite(`tokenizerToJson round trip through @huggingface/tokenizers${shared ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`, () => {
  it('SentencePiece-style (stories260K tok512.bin) -> BPE with byte fallback', async () => {
    const stories = stories260KPaths();
    if (!stories) return;
    checkRoundTrip(await loadTokenizerFile(stories.tokenizer, { vocabSize: 512 }), corpus, { decode: true });
  });
  it('SentencePiece-style (llama-spm GGUF, 32000 tokens)', () => {
    checkRoundTrip(fromGguf('llama-spm'), corpus, { decode: true });
  }, 60_000);
  it('byte-level BPE (gpt-2 GGUF) -> ByteLevel with llama.cpp split regexes', () => {
    checkRoundTrip(fromGguf('gpt-2'), corpus, { decode: true });
  }, 60_000);
  it('WordPiece (bert-bge GGUF) -> BertWordPiece', () => {
    // @huggingface/tokenizers 0.2 does not isolate CJK Extension B characters (U+20000..) as BERT (and llama.cpp) do.
    // llama.cpp's WordPiece differs from BERT's on Hangul syllables (it keeps only the leading jamo) and on spacing /
    // enclosing marks (dropped): lines with those are left out, the GGUF tokenizer follows llama.cpp there.
    checkRoundTrip(fromGguf('bert-bge'), corpus, {
      decode: false,
      hfSkip: /[\u{20000}-\u{2FA1F}]/u,
      skip: /[\uAC00-\uD7A3\p{Mc}\p{Me}]/u,
    });
  }, 60_000);
});
