import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function readCgroupV2Quota(): number | undefined {
  try {
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota === 'max') return undefined;
    const q = Number(quota);
    const p = Number(period);
    return q > 0 && p > 0 ? q / p : undefined;
  } catch {
    return undefined;
  }
}

function readCgroupV1Quota(): number | undefined {
  try {
    const q = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8').trim());
    const p = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8').trim());
    return q > 0 && p > 0 ? q / p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU cores this process may really use: `os.availableParallelism()` (the affinity mask), capped by the cgroup CPU
 * quota where one is set (containers often see every host core but may use only a few). At least 1.
 */
export function availableCpuCores(): number {
  const parallelism = availableParallelism();
  const quota = readCgroupV2Quota() ?? readCgroupV1Quota();
  const cores = quota === undefined ? parallelism : Math.min(parallelism, Math.floor(quota));
  return Math.max(1, cores);
}
