import { headDim, type ModelSpec } from '@slmkit/core';

/**
 * Smallest head dimension for which llama.cpp's CPU flash-attention kernel beats the plain attention path.
 * Measured here (one thread, decode): head dim 8 (stories260K) 2-3x slower with flash attention, 48 (24M preset)
 * 15% slower, 64 (134M preset) 38% faster.
 */
export const FLASH_ATTENTION_MIN_HEAD_DIM = 64;

/** Whether to run llama.cpp with flash attention: an explicit choice, else by head dimension. */
export function chooseFlashAttention(spec: ModelSpec, requested?: boolean): boolean {
  if (requested !== undefined) return requested;
  return headDim(spec) >= FLASH_ATTENTION_MIN_HEAD_DIM;
}
