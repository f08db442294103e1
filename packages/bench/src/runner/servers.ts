import { type ChildProcess, spawn } from 'node:child_process';
import { BackendError, throwIfAborted } from '@slmkit/core';
import { findSharedDir } from '@slmkit/core/testing/shared';
import type { ServerEntry } from '../suite/suite-types.js';

const SHARED_TOKEN = ['$', '{shared}'].join('');
const SUITE_TOKEN = ['$', '{suite}'].join('');

export interface RunningServer {
  id: string;
  url: string;
  stop(): Promise<void>;
}

/** Expands `${shared}` / `${suite}` in one argument; undefined when it needs ../shared and that is absent. */
export function expandArgument(arg: string, suiteDir: string): string | undefined {
  let out = arg.replaceAll(SUITE_TOKEN, suiteDir);
  if (out.includes(SHARED_TOKEN)) {
    const shared = findSharedDir();
    if (shared === undefined) return undefined;
    out = out.replaceAll(SHARED_TOKEN, shared);
  }
  return out;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts a server process and waits until `url + readyPath` answers; its stderr tail is kept for errors. */
export async function startServer(entry: ServerEntry, suiteDir: string, signal?: AbortSignal): Promise<RunningServer> {
  const argv = entry.command.map((a) => expandArgument(a, suiteDir));
  if (argv.some((a) => a === undefined))
    throw new BackendError(`server ${entry.id} needs ../shared, which is absent`, { field: `servers.${entry.id}` });
  const args = argv as string[];
  let stderr = '';
  const child: ChildProcess = spawn(args[0], args.slice(1), { cwd: suiteDir, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-1500);
  });
  let exited: string | undefined;
  child.on('exit', (code, sig) => {
    exited = `exited with ${sig ?? `code ${code}`}`;
  });
  child.on('error', (error) => {
    exited = `could not start: ${error.message}`;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };
  const deadline = performance.now() + (entry.startupTimeoutMs ?? 60_000);
  const ready = `${entry.url.replace(/\/+$/, '')}${entry.readyPath ?? '/v1/models'}`;
  try {
    for (;;) {
      throwIfAborted(signal);
      if (exited)
        throw new BackendError(`server ${entry.id} ${exited}: ${stderr.trim().slice(-500)}`, {
          field: `servers.${entry.id}`,
        });
      if (await answers(ready)) break;
      if (performance.now() > deadline)
        throw new BackendError(`server ${entry.id} did not answer ${ready} in time: ${stderr.trim().slice(-500)}`, {
          field: `servers.${entry.id}`,
        });
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { id: entry.id, url: entry.url, stop };
}
