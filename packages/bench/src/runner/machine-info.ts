import { createRequire } from 'node:module';
import { cpus, hostname, totalmem } from 'node:os';
import { availableCpuCores } from '@slmkit/core/node';
import type { MachineInfo } from './result-types.js';

const RUNTIME_PACKAGES = ['node-llama-cpp', 'onnxruntime-node', '@tensorflow/tfjs', '@huggingface/transformers'];

function packageVersion(name: string): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    return (require(`${name}/package.json`) as { version?: string }).version;
  } catch {
    // Some packages do not export package.json: find it beside the resolved entry point.
    try {
      const entry = require.resolve(name);
      const at = entry.lastIndexOf(`/node_modules/${name}/`);
      if (at < 0) return undefined;
      return (require(`${entry.slice(0, at)}/node_modules/${name}/package.json`) as { version?: string }).version;
    } catch {
      return undefined;
    }
  }
}

/** CPU model, cores in quota, memory, Node and runtime versions of this machine. */
export function machineInfo(extra: Pick<MachineInfo, 'cpuPinning'> = {}): MachineInfo {
  const list = cpus();
  const runtimes: Record<string, string> = {};
  for (const name of RUNTIME_PACKAGES) {
    const version = packageVersion(name);
    if (version) runtimes[name] = version;
  }
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    logicalCpus: list.length,
    coresInQuota: availableCpuCores(),
    totalMemoryBytes: totalmem(),
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    runtimes,
    hostname: hostname(),
    ...extra,
  };
}
