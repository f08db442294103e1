import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type GgufQuantization,
  type LoadProgress,
  type ModelData,
  type ModelFiles,
  modelDataToGguf,
  planGguf,
  throwIfAborted,
} from '@slmkit/core';
import { loadModelData, writeGgufFile } from '@slmkit/core/node';
import { defaultGgufCacheDir } from './config.js';

export interface GgufCacheOptions {
  /** Folder of converted files. Default `$SLMKIT_CACHE_DIR/gguf`, else `~/.cache/slmkit/gguf`. */
  cacheDir?: string;
  /** Encoding of 2-D weights in the converted file. Default: keep each tensor's encoding (f32 for llama2.c). */
  quantize?: GgufQuantization;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export interface CachedGguf {
  path: string;
  /** Whether this call wrote the file (false: it was already in the cache). */
  written: boolean;
  bytes: number;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64) || 'model';
}

/**
 * Writes `data` as a GGUF file named by the SHA-256 of its exact contents, unless that file is already in the cache.
 * The same model converted twice hits the cache; any change of weights, tokenizer or encoding makes a new file.
 */
export async function cacheModelDataAsGguf(data: ModelData, options: GgufCacheOptions = {}): Promise<CachedGguf> {
  throwIfAborted(options.signal, 'GGUF conversion');
  const { metadata, tensors } = modelDataToGguf(data, { quantize: options.quantize });
  const layout = planGguf(metadata, tensors);
  const hash = createHash('sha256');
  hash.update(layout.header);
  for (const t of tensors) hash.update(t.data);
  const dir = options.cacheDir ?? defaultGgufCacheDir();
  const path = join(dir, `${safeName(data.spec.name)}-${hash.digest('hex').slice(0, 24)}.gguf`);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && existing.size === layout.totalSize) return { path, written: false, bytes: existing.size };
  await mkdir(dir, { recursive: true });
  const { bytes } = await writeGgufFile(path, {
    metadata,
    tensors,
    signal: options.signal,
    onProgress: (p) => options.onProgress?.({ fraction: p.fraction, stage: `converting to GGUF: ${p.stage}` }),
  });
  return { path, written: true, bytes };
}

/** Reads a model core understands (llama2.c, safetensors folder, ...) and caches it as GGUF. */
export async function cacheModelFilesAsGguf(
  files: ModelFiles,
  options: GgufCacheOptions = {},
): Promise<CachedGguf & { data: ModelData }> {
  options.onProgress?.({ fraction: 0, stage: `reading ${files.path}` });
  const data = await loadModelData(files);
  return { ...(await cacheModelDataAsGguf(data, options)), data };
}
