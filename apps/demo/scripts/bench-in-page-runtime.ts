// Decode speed of the demo's in-page runtimes in Node (same JavaScript as in the page's worker), stories260K from
// ../shared: core's reference backend vs tinyjs, greedy, fixed lengths (EOS ignored), best of 3.
// Run from the repository root:
//   node --conditions=source --import ./apps/demo/src/testing/ts-register.mjs apps/demo/scripts/bench-in-page-runtime.ts
import { generateText } from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { createTinyLlamaBackend } from '../src/device/tiny-llama-backend.js';

const paths = stories260KPaths();
if (!paths) throw new Error('../shared is absent: this benchmark needs stories260K');
const input = { path: paths.model, tokenizerPath: paths.tokenizer };
const models = [
  ['reference', await createReferenceBackend().load(input)],
  ['tinyjs', await createTinyLlamaBackend().load(input)],
] as const;
for (const tokens of [64, 256, 480]) {
  for (const [name, model] of models) {
    const rates: number[] = [];
    for (let run = 0; run < 3; run++) {
      const r = await generateText({
        model,
        prompt: 'Once upon a time',
        maxTokens: tokens,
        temperature: 0,
        stopTokens: [],
      });
      rates.push(r.timings.decodeTokensPerSecond);
    }
    console.log(
      `${name.padEnd(9)} ${String(tokens).padStart(3)} tokens: best ${Math.max(...rates).toFixed(0)} tokens/s (${rates.map((r) => r.toFixed(0)).join(', ')})`,
    );
  }
}
