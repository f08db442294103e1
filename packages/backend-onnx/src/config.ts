import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Environment settings of @slmkit/backend-onnx (Node only), read here and nowhere else.
 * - `SLMKIT_ONNX_CACHE_DIR`: where non-ONNX models are exported before loading. Default
 *   `$XDG_CACHE_HOME/slmkit/onnx` or `~/.cache/slmkit/onnx`.
 */
export function onnxCacheDir(): string {
  const explicit = process.env.SLMKIT_ONNX_CACHE_DIR;
  if (explicit) return explicit;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'slmkit', 'onnx');
}
