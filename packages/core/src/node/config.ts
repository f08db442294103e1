import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Hugging Face hub used for `hf:` sources unless overridden. */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** Node-side settings of @slmkit/core. Environment variables are read here and nowhere else in this package. */
export interface NodeConfig {
  /** Where downloads are cached. `SLMKIT_CACHE_DIR`; default `~/.cache/slmkit`. */
  cacheDir: string;
  /** Base URL of the Hugging Face hub. `SLMKIT_HF_ENDPOINT`; default https://huggingface.co. */
  hfEndpoint: string;
  /** Token sent to the hub for `hf:` sources (gated/private repos). `SLMKIT_HF_TOKEN`, else `HF_TOKEN`; default none. */
  hfToken?: string;
}

/** Reads the configuration from `env` (default `process.env`). */
export function readNodeConfig(env: Readonly<Record<string, string | undefined>> = process.env): NodeConfig {
  const cacheDir = env.SLMKIT_CACHE_DIR?.trim();
  const endpoint = env.SLMKIT_HF_ENDPOINT?.trim();
  const token = (env.SLMKIT_HF_TOKEN ?? env.HF_TOKEN)?.trim();
  return {
    cacheDir: cacheDir ? resolve(cacheDir) : join(homedir(), '.cache', 'slmkit'),
    hfEndpoint: (endpoint || DEFAULT_HF_ENDPOINT).replace(/\/+$/, ''),
    ...(token ? { hfToken: token } : {}),
  };
}
