import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { runCli } from '../test-io.test-helpers.js';

const paths = stories260KPaths();
const haveModel = paths !== undefined && existsSync(paths.model);

describe.skipIf(!haveModel)('slm chat (stories260K from ../shared, reference backend)', () => {
  it('reads messages from a pipe, answers each on stdout, and handles /stats, /reset and /system', async () => {
    const model = paths?.model as string;
    const stdin = [
      'Hello there',
      '/stats',
      'What did the dog do?',
      '/reset',
      '/system You tell short stories.',
      'Tell me one',
      '',
    ].join('\n');
    const run = await runCli(['chat', '--model', model, '--temperature', '0', '--max-tokens', '24'], { stdin });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const answers = run.stdout.split('\n').filter((l) => l.length > 0);
    expect(answers).toHaveLength(3);
    expect(run.stderr).toMatch(/last answer: \d+ tokens, decode [\d.]+ tokens\/s/);
    expect(run.stderr).toContain('(conversation cleared)');
    expect(run.stderr).toContain('(system prompt set)');
    // Greedy and stateless across /reset: the same first message gives the same first answer.
    const again = await runCli(['chat', '--model', model, '--temperature', '0', '--max-tokens', '24'], {
      stdin: 'Hello there\n',
    });
    expect(again.stdout.trim()).toBe(answers[0]);
  });

  it('Ctrl-C without a terminal (the process signal) stops the answer mid-stream and ends the session cleanly', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const controller = new AbortController();
    let out = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!controller.signal.aborted) controller.abort(new Error('interrupted'));
    });
    const stdin = new PassThrough();
    stdin.write('Tell me a long story\n');
    const code = await main(['chat', '--model', paths?.model as string, '--max-tokens', '400', '--temperature', '0'], {
      stdout,
      stderr,
      stdin,
      signal: controller.signal,
    });
    expect(code).toBe(0);
    expect(err).toContain('(stopped)');
    expect(out.trim().split(/\s+/).length).toBeLessThan(20);
  });
});

describe.skipIf(haveModel)('slm chat', () => {
  it.skip('needs ../shared (stories260K): skipped in a fresh clone', () => {});
});
