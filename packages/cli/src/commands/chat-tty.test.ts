import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { describe, expect, it } from 'vitest';

// `slm chat` in a real terminal: util-linux `script` gives the process a pseudo-terminal, so Ctrl-C arrives as the
// byte 0x03 that readline turns into its SIGINT event. The CLI runs from its TypeScript sources (no build).
const SCRIPT = '/usr/bin/script';
const REGISTER = fileURLToPath(new URL('../../../../apps/demo/src/testing/ts-register.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../bin.ts', import.meta.url));
const paths = stories260KPaths();
const ready = existsSync(SCRIPT) && paths !== undefined && existsSync(paths.model);

describe.skipIf(!ready)('slm chat in a terminal (needs /usr/bin/script and ../shared)', () => {
  it('Ctrl-C stops the current answer, not the program; /stats and /exit work', async () => {
    const command = [
      process.execPath,
      '--conditions=source',
      '--import',
      REGISTER,
      BIN,
      'chat',
      '--model',
      paths?.model,
      '--max-tokens',
      '480',
      '--temperature',
      '0',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const w of [...waiters]) {
        if (w.pattern.test(out)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    const waitFor = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(out)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`)),
          60_000,
        );
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(/\/help for commands[\s\S]*> /);
      child.stdin.write('Tell me a long story\r');
      await waitFor(/Tell me a long story\r*\n[^\n]{8,}/); // the answer is streaming
      child.stdin.write('\x03');
      await waitFor(/\(stopped\)/);
      child.stdin.write('/stats\r');
      await waitFor(/last answer: \d+ tokens, decode [\d.]+ tokens\/s/);
      child.stdin.write('/exit\r');
      expect(await exited).toBe(0);
      const tokens = Number(out.match(/last answer: (\d+) tokens/)?.[1]);
      expect(tokens).toBeLessThan(480); // stopped early
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
