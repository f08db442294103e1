import { execFileSync } from 'node:child_process';

/** Where single-threaded measurement children are pinned, or why they are not. */
export type CpuPinning = { cpu: number; tool: 'taskset' } | { cpu?: undefined; reason: string };

/** CPU ids in a list like `0-3,6,8-9` (taskset's `--cpu-list` output). */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

type Exec = (file: string, args: string[]) => string;

const execText: Exec = (file, args) =>
  execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });

/**
 * Decides the pinning of measurement children: with one thread per backend, each child's main thread (and the threads
 * it creates later, e.g. llama.cpp's) is pinned to the last CPU this process may use, so the scheduler does not
 * migrate it between cores mid-run (llama-bench users do the same with `taskset`/`numactl`). V8's own helper
 * threads (GC, compiler), started before the pinning, stay free: pinning them too (`taskset -a`) put them on the
 * measuring core and halved the JS/wasm backends (tfjs 380 vs 717 tok/s, transformers.js 1351 vs 2134 on stories260K). With more threads, or without `taskset` (not Linux,
 * util-linux missing), nothing is pinned and the reason is recorded.
 */
export function planCpuPinning(threads: number | undefined, exec: Exec = execText): CpuPinning {
  if (threads !== 1) return { reason: `not pinned: ${threads ?? 'default'} threads per backend` };
  if (process.platform !== 'linux') return { reason: `not pinned: no taskset on ${process.platform}` };
  let allowed: number[];
  try {
    const out = exec('taskset', ['-c', '-p', String(process.pid)]);
    allowed = parseCpuList(out.slice(out.lastIndexOf(':') + 1));
  } catch {
    return { reason: 'not pinned: taskset is not available' };
  }
  if (allowed.length === 0) return { reason: 'not pinned: could not read the CPU affinity list' };
  return { cpu: allowed[allowed.length - 1], tool: 'taskset' };
}

/** Pins the main thread of process `pid` to `cpu`; returns undefined on success, else why it failed. */
export function pinProcess(pid: number, cpu: number, exec: Exec = execText): string | undefined {
  try {
    exec('taskset', ['-c', '-p', String(cpu), String(pid)]);
    return undefined;
  } catch (error) {
    return `taskset failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** One line for the machine info: how measurement children were pinned. */
export function describePinning(pinning: CpuPinning): string {
  return pinning.cpu !== undefined
    ? `each measurement child main thread pinned to CPU ${pinning.cpu} (taskset -c -p ${pinning.cpu} <pid>)`
    : pinning.reason;
}
