import { join } from 'node:path';
import { readNodeConfig } from '@slmkit/core/node';

/** Environment variables this package reads (nowhere else). The cache root comes from core's `readNodeConfig`. */
export interface LlamaCppEnvironment {
  /** `SLMKIT_LLAMACPP_GPU`: `auto` (default), `cuda`, `vulkan`, `metal` or `cpu`/`false`. */
  gpu?: string;
}

export function readEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): LlamaCppEnvironment {
  return { gpu: env.SLMKIT_LLAMACPP_GPU?.trim() || undefined };
}

/** Default folder for converted GGUF files: `<slmkit cache>/gguf` (`$SLMKIT_CACHE_DIR/gguf`, else `~/.cache/slmkit/gguf`). */
export function defaultGgufCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(readNodeConfig(env).cacheDir, 'gguf');
}
