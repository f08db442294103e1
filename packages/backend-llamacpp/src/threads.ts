import { loadavg } from 'node:os';
import { InvalidArgumentError } from '@slmkit/core';
import { availableCpuCores } from '@slmkit/core/node';

/**
 * Weights up to this size decode fastest on one thread: the work per token is too small to split (stories260K,
 * 1 MB: one thread matched 2 and 4 and beat 8 and 16 on an idle 16-core host).
 */
export const SINGLE_THREAD_MAX_WEIGHT_BYTES = 4 * 1024 * 1024;

/**
 * Weight bytes per thread (decode is memory-bound, so more threads pull more bandwidth). Measured on an idle 16-core
 * host, decode tokens/s by threads 1/2/4/8/16: 24M preset (61 MB f32) 178/300/489/627/450; 134M preset (440 MB)
 * 26/50/87/138/163. About 8 MB per thread puts both at their best.
 */
export const WEIGHT_BYTES_PER_THREAD = 8 * 1024 * 1024;

export interface ThreadChoiceInput {
  /** The caller's explicit choice; wins when set. */
  requested?: number;
  /** Encoded bytes of the model's weights. */
  weightBytes: number;
  /** Cores this process may use; default `availableCpuCores()` (cgroup-aware). */
  cores?: number;
  /**
   * Physical cores useful for math (llama.cpp's own default; node-llama-cpp's `llama.cpuMathCores`). Hyper-threads
   * share one core's vector units, so threads beyond this rarely help. Default: no extra cap.
   */
  mathCores?: number;
  /** Runnable tasks competing for those cores (1-minute load average); default `os.loadavg()[0]`. */
  load?: number;
}

/**
 * Threads for llama.cpp: an explicit `requested` value, else
 * - 1 for small models (below `SINGLE_THREAD_MAX_WEIGHT_BYTES`);
 * - else one thread per `WEIGHT_BYTES_PER_THREAD` of weights, capped by the real CPU quota (cgroup-aware), by the
 *   physical math cores, and by the cores left idle by other work (quota minus the load average, at least 1).
 *
 * Why the idle cap: llama.cpp's threads meet at spin-wait barriers after every operation. When another process holds
 * one of the cores, the other threads spin until it is rescheduled, and decoding slows down by 10-100x (measured
 * here: a 134M model at 2 threads on a busy 2-core machine ran at 1-4 tokens/s against 16-37 on one thread).
 * node-llama-cpp's default (it counts 4 threads on a 2-core cgroup) is the extreme case: ~1000x slower.
 */
export function chooseThreads(input: ThreadChoiceInput): number {
  if (input.requested !== undefined) {
    if (!Number.isInteger(input.requested) || input.requested < 1 || input.requested > 1024) {
      throw new InvalidArgumentError(`threads must be an integer in 1..1024, got ${input.requested}`, {
        field: 'threads',
        value: input.requested,
      });
    }
    return input.requested;
  }
  if (input.weightBytes <= SINGLE_THREAD_MAX_WEIGHT_BYTES) return 1;
  const cores = Math.max(1, Math.min(input.cores ?? availableCpuCores(), input.mathCores ?? Number.POSITIVE_INFINITY));
  const load = Math.max(0, input.load ?? loadavg()[0] ?? 0);
  const idle = Math.max(1, Math.floor(cores - load + 0.5));
  return Math.max(1, Math.min(cores, idle, Math.ceil(input.weightBytes / WEIGHT_BYTES_PER_THREAD)));
}
