import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, SlmError } from '../errors/index.js';
import { loadTokenizerFile } from '../node/load-tokenizer-file.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { describeTokenizer, loadTokenizer } from './load-tokenizer.js';
import { tokenizerTestCorpus } from './tokenizer-corpus.js';

const paths = stories260KPaths();
const suite = paths ? describe : describe.skip;

suite(`stories260K tokenizer in every form${paths ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`, () => {
  const p = paths as NonNullable<typeof paths>;
  const corpus = tokenizerTestCorpus(600, 77);

  it('tok512.bin, tok512.model, tokenizer.json (file and folder) give the same ids', async () => {
    const bin = await loadTokenizerFile(p.tokenizer, { vocabSize: 512 });
    const model = await loadTokenizerFile(p.tokenizerModel);
    const json = await loadTokenizerFile(join(p.hfOnnx, 'tokenizer.json'));
    const folder = await loadTokenizerFile(p.hfOnnx);
    expect(bin.vocabSize).toBe(512);
    expect(model.vocabSize).toBe(512);
    expect(json.vocabSize).toBe(512);
    for (const t of [model, json, folder]) {
      expect(t.special.bos).toBe(1);
      expect(t.special.eos).toBe(2);
      expect(t.addBos).toBe(true);
      expect(t.addEos).toBe(false);
    }
    expect(bin.encode('Once upon a time')).toEqual([1, ...bin.encode('Once upon a time', { addSpecialTokens: false })]);
    for (const line of corpus) {
      const want = bin.encode(line);
      expect(model.encode(line), line).toEqual(want);
      expect(json.encode(line), line).toEqual(want);
      expect(folder.encode(line), line).toEqual(want);
      expect(json.decode(want)).toBe(bin.decode(want));
    }
    expect(describeTokenizer(json)).toMatch(/512 tokens/);
  });

  it('in-memory contents load like files', () => {
    const json = JSON.parse(readFileSync(join(p.hfOnnx, 'tokenizer.json'), 'utf8'));
    const config = readFileSync(join(p.hfOnnx, 'tokenizer_config.json'), 'utf8');
    const t = loadTokenizer({ tokenizerJson: json, tokenizerConfig: config });
    const s = loadTokenizer({ sentencePieceModel: new Uint8Array(readFileSync(p.tokenizerModel)) });
    expect(t.encode('Lily saw a big, red ball.')).toEqual(s.encode('Lily saw a big, red ball.'));
  });
});

describe('loadTokenizerFile on a GGUF', () => {
  const file = sharedPath('vocab', 'ggml-vocab-gpt-2.gguf');
  it.skipIf(!file)(
    `reads the tokenizer.ggml.* metadata${file ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`,
    async () => {
      const t = await loadTokenizerFile(file as string);
      expect(t.kind).toBe('bpe');
      expect(t.vocabSize).toBe(50257);
      expect(t.encode('Hello world', { addSpecialTokens: false })).toEqual([15496, 995]);
    },
  );
});

describe('loadTokenizerFile errors', () => {
  it('names the missing path', async () => {
    await expect(loadTokenizerFile('/nonexistent/tokenizer.json')).rejects.toSatisfy(
      (e) => SlmError.isInstance(e) && e.code === 'NOT_FOUND',
    );
  });
  it('rejects bad JSON with a ModelFormatError', () => {
    expect(() => loadTokenizer({ tokenizerJson: '{"model": ' })).toThrow(ModelFormatError);
    expect(() => loadTokenizer({ tokenizerJson: { model: { type: 'BPE', vocab: { a: -1 }, merges: [] } } })).toThrow(
      /tokenizer\.json\.model\.vocab\.a/,
    );
  });
});
