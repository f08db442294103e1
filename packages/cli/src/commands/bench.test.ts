import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.test-helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slm-bench-cli-'));
  dirs.push(dir);
  return dir;
}

describe('slm bench', () => {
  it('runs a suite in child processes, writes the three reports, and compares two runs', async () => {
    const dir = await tempDir();
    const suite = join(dir, 'suite.json');
    await writeFile(
      suite,
      JSON.stringify({
        name: 'cli-tiny',
        settings: { warmup: 0, minRepetitions: 2, minDurationMs: 0, timeoutMs: 60_000 },
        models: [{ id: 'tiny', random: { preset: 'tiny', seed: 4 } }],
        backends: [{ id: 'reference' }],
        scenarios: [{ id: 'speed', type: 'speed', promptTokens: [8], outputTokens: 4 }],
      }),
    );
    const out = join(dir, 'out');
    const run = await runCli(['bench', '--suite', suite, '--out', out, '--threads', '1']);
    expect(run.stderr).toMatch(/\[1\/1\] tiny × reference × speed: ok/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('# slm bench: cli-tiny');
    for (const f of ['results.jsonl', 'results.json', 'report.md', 'report.html'])
      expect(existsSync(join(out, f))).toBe(true);

    const before = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    // One thread: the measuring child is pinned to a CPU where taskset exists, and the result says which.
    expect(before.machine.cpuPinning).toMatch(/pinned to CPU \d+|not pinned/);
    if (before.machine.cpuPinning.includes('pinned to CPU'))
      expect(before.cells[0].runtime.details.pinnedCpu).toBeTypeOf('number');
    const after = structuredClone(before);
    after.cells[0].metrics.tg4_tps = before.cells[0].metrics.tg4_tps * 0.5;
    await writeFile(join(dir, 'after.json'), JSON.stringify(after));
    const same = await runCli(['bench', 'compare', join(out, 'results.json'), join(out, 'results.json')]);
    expect(same.code).toBe(0);
    const worse = await runCli(['bench', 'compare', join(out, 'results.json'), join(dir, 'after.json')]);
    expect(worse.code).toBe(1);
    expect(worse.stdout).toMatch(/\| tiny \| reference \| speed \| tg4_tps \|.*-50\.0% \| regression \|/);
    // Run-to-run mode: the decode figure halved is a 66.7% spread, over the 10% bar.
    const spread = await runCli(['bench', 'compare', join(out, 'results.json'), join(dir, 'after.json'), '--spread']);
    expect(spread.code).toBe(1);
    expect(spread.stdout).toMatch(/\| tiny \| reference \| tg4_tps \|.*\| 66\.7% \| \*\*no\*\* \|/);
    expect(spread.stdout).toContain('0 of 1 cells within 10.0%');
    const stable = await runCli(['bench', 'compare', join(out, 'results.json'), join(out, 'results.json'), '--spread']);
    expect(stable.code).toBe(0);

    const report = await runCli(['bench', 'report', join(dir, 'after.json'), '--out', join(dir, 'rerendered')]);
    expect(report.code).toBe(0);
    expect(existsSync(join(dir, 'rerendered', 'report.html'))).toBe(true);
  });

  it('names what is missing', async () => {
    const run = await runCli(['bench']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--suite/);
    const bad = await runCli(['bench', '--suite', '/nonexistent/suite.json']);
    expect(bad.stderr).toMatch(/nonexistent\/suite\.json/);
  });
});
