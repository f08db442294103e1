import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSuite } from '../suite/suite-file.js';
import type { RunnerEvent } from './runner.js';
import { runSuite } from './runner.js';

const fault = fileURLToPath(new URL('./testing/fault-backend.ts', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('runSuite', () => {
  it('reports a crashing and a hanging cell as failed and completes the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slm-bench-'));
    dirs.push(dir);
    const suite = validateSuite({
      name: 'faults',
      settings: { warmup: 0, minRepetitions: 2, minDurationMs: 0, timeoutMs: 10_000 },
      models: [{ id: 'tiny', random: { preset: 'tiny', seed: 3 } }],
      backends: [
        { id: 'reference' },
        { id: 'crash', kind: 'module', module: fault, export: 'createFaultBackend', options: { mode: 'crash' } },
        { id: 'hang', kind: 'module', module: fault, export: 'createFaultBackend', options: { mode: 'hang' } },
        { id: 'throws', kind: 'module', module: fault, export: 'createFaultBackend', options: { mode: 'throw' } },
        { id: 'same', kind: 'module', module: fault, export: 'createFaultBackend', options: { mode: 'ok' } },
      ],
      scenarios: [{ id: 'greedy', type: 'generate', prompts: ['hello world', 'the cat'], maxTokens: 6 }],
    });
    const events: RunnerEvent[] = [];
    const result = await runSuite({
      suite: { suite, file: join(dir, 'suite.json'), dir },
      outDir: dir,
      cacheDir: join(dir, 'cache'),
      onEvent: (e) => events.push(e),
    });
    const byBackend = Object.fromEntries(result.cells.map((c) => [c.backend, c]));
    expect(byBackend.reference.status).toBe('ok');
    expect(byBackend.reference.tokens?.map((t) => t.length)).toEqual([6, 6]);
    expect(byBackend.reference.metrics.peak_rss_bytes).toBeGreaterThan(10_000_000);
    expect(byBackend.crash.status).toBe('failed');
    expect(byBackend.crash.error).toMatch(/crashed.*SIGKILL/);
    expect(byBackend.hang.status).toBe('failed');
    expect(byBackend.hang.error).toMatch(/timed out after 10000 ms/);
    expect(byBackend.throws.status).toBe('failed');
    expect(byBackend.throws.error).toMatch(/failed on purpose/);
    expect(byBackend.same.status).toBe('ok');
    // The same model on the same runtime agrees with the reference token for token.
    expect(result.agreement).toEqual([
      expect.objectContaining({
        backend: 'same',
        reference: 'reference',
        tokenAgreement: 1,
        prefixAgreement: 1,
        firstDivergence: null,
      }),
    ]);
    const lines = (await readFile(join(dir, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(events.filter((e) => e.type === 'cell-end')).toHaveLength(5);
    expect(result.machine.coresInQuota).toBeGreaterThanOrEqual(1);
  });
});
