import { PassThrough } from 'node:stream';
import { main } from './main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `slm` in-process with captured stdout/stderr. */
export async function runCli(argv: string[], options: { signal?: AbortSignal; stdin?: string } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const code = await main(argv, { stdout, stderr, stdin, signal: options.signal });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
