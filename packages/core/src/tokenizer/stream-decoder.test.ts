import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readGguf } from '../formats/gguf-reader.js';
import { loadTokenizerFile } from '../node/load-tokenizer-file.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { tokenizerFromGguf } from './gguf-vocab.js';
import type { Tokenizer } from './tokenizer.js';

const TEXTS = [
  'Once upon a time 🦙🚀 there was 日本語のテキスト and 한국어 문장.',
  '👩‍👩‍👧‍👦 family, 🇯🇵 flag, 👍🏽 thumbs — 中文分词测试 𠀀𠀁 end',
  '   leading spaces\n\nand\ttabs 😶‍🌫️',
];

function checkStreaming(tokenizer: Tokenizer) {
  for (const text of TEXTS) {
    const ids = tokenizer.encode(text);
    const decoder = tokenizer.createStreamDecoder();
    const chunks: string[] = [];
    for (const id of ids) chunks.push(decoder.push(id));
    chunks.push(decoder.flush());
    for (const chunk of chunks) expect(chunk).not.toContain('\uFFFD');
    expect(chunks.join('')).toBe(tokenizer.decode(ids));
    expect(chunks.join('')).toBe(text);
    // Multi-byte characters really were split across ids somewhere (else the test proves nothing).
    expect(chunks.filter((c) => c === '').length).toBeGreaterThan(0);
  }
}

const shared = sharedPath('vocab');
const suite = shared ? describe : describe.skip;

function fromGguf(name: string): Tokenizer {
  const file = sharedPath('vocab', `ggml-vocab-${name}.gguf`) as string;
  return tokenizerFromGguf(readGguf(new Uint8Array(readFileSync(file)), file).metadata, file);
}

suite(`streaming decode never emits broken UTF-8${shared ? '' : ` — skipped: ${SHARED_MISSING_REASON}`}`, () => {
  it('SentencePiece byte fallback (stories260K, 512 tokens: nearly every non-ASCII char is bytes)', async () => {
    const p = stories260KPaths();
    if (!p) return;
    checkStreaming(await loadTokenizerFile(p.tokenizerModel));
    checkStreaming(await loadTokenizerFile(p.hfOnnx));
  });
  it('llama-spm byte fallback', () => checkStreaming(fromGguf('llama-spm')));
  it('gpt-2 byte-level BPE', () => checkStreaming(fromGguf('gpt-2')));
  it('continues after a prompt given as context without repeating it', () => {
    const t = fromGguf('llama-spm');
    const prompt = t.encode('Hello');
    const full = t.encode('Hello wörld 🦙');
    expect(full.slice(0, prompt.length)).toEqual(prompt);
    const rest = full.slice(prompt.length);
    const decoder = t.createStreamDecoder({ context: prompt });
    const out = rest.map((id) => decoder.push(id)).join('') + decoder.flush();
    expect(out).toBe(' wörld 🦙');
  });
});
