import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type LoadOptions, type ModelFiles, throwIfAborted } from '@slmkit/core';
import { loadModelData, pathExists } from '@slmkit/core/node';
import { onnxCacheDir } from './config.js';
import { exportOnnxFolder, ONNX_FILE_NAMES } from './onnx-export.js';

/** Bumped when the exporter's output changes, so stale cache entries are not reused. */
const EXPORT_FORMAT_VERSION = 3; // 2: graphs output last_hidden_state; 3: KV-slot graphs

async function fingerprint(files: ModelFiles): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`v${EXPORT_FORMAT_VERSION}\n`);
  for (const path of [files.path, files.tokenizerPath]) {
    if (!path) continue;
    const info = await stat(path);
    hash.update(`${path}\n${info.size}\n${info.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Exports a model core can read (llama2.c, GGUF, safetensors) into `<cacheDir>/<name>-<hash>/` once, and returns
 * that folder. The folder is reused while the source files' size and mtime stay the same.
 */
export async function exportToCache(
  files: ModelFiles,
  options: LoadOptions & { cacheDir?: string } = {},
): Promise<string> {
  const dir = join(
    options.cacheDir ?? onnxCacheDir(),
    `${basename(files.path).replace(/[^\w.-]/g, '_')}-${await fingerprint(files)}`,
  );
  if (await pathExists(join(dir, ONNX_FILE_NAMES['slots-int8']))) return dir; // written last
  options.onProgress?.({ fraction: 0.05, stage: 'reading model for ONNX export' });
  const model = await loadModelData(files);
  throwIfAborted(options.signal, 'ONNX export');
  try {
    await exportOnnxFolder(model, dir, {
      signal: options.signal,
      onProgress: (p) => options.onProgress?.({ fraction: 0.1 + 0.3 * p.fraction, stage: p.stage }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}
