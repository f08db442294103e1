import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describePinning, parseCpuList, pinProcess, planCpuPinning } from './cpu-affinity.js';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('cpu affinity', () => {
  it('parses taskset CPU lists', () => {
    expect(parseCpuList('0-1')).toEqual([0, 1]);
    expect(parseCpuList(' 0,2-4,7\n')).toEqual([0, 2, 3, 4, 7]);
    expect(parseCpuList('')).toEqual([]);
  });

  it('pins single-threaded runs to the last allowed CPU and says why not otherwise', () => {
    const lists = (text: string) => () => text;
    expect(planCpuPinning(2, lists('x'))).toEqual({ reason: 'not pinned: 2 threads per backend' });
    expect(describePinning(planCpuPinning(undefined, lists('x')))).toMatch(/default threads/);
    if (process.platform !== 'linux') return;
    expect(planCpuPinning(1, lists("pid 7's current affinity list: 0-3,6\n"))).toEqual({ cpu: 6, tool: 'taskset' });
    const missing = planCpuPinning(1, () => {
      throw new Error('spawnSync taskset ENOENT');
    });
    expect(missing).toEqual({ reason: 'not pinned: taskset is not available' });
    expect(describePinning(missing)).toBe('not pinned: taskset is not available');
    expect(describePinning({ cpu: 1, tool: 'taskset' })).toMatch(/CPU 1/);
  });

  it.skipIf(process.platform !== 'linux' || !hasTaskset())('pins every thread of a real process', async () => {
    const plan = planCpuPinning(1);
    expect(plan.cpu).toBeTypeOf('number');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(pinProcess(child.pid as number, plan.cpu as number)).toBeUndefined();
      const out = execFileSync('taskset', ['-c', '-p', String(child.pid)], { encoding: 'utf8' });
      expect(parseCpuList(out.slice(out.lastIndexOf(':') + 1))).toEqual([plan.cpu]);
      expect(pinProcess(child.pid as number, 4096)).toMatch(/taskset failed/);
    } finally {
      child.kill();
    }
  });
});
