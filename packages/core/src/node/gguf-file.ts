import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { InvalidArgumentError, ModelFormatError, throwIfAborted } from '../errors/index.js';
import { findGgufTensor, GgufNeedMoreBytes, ggufTensorFromBytes, parseGgufHeader } from '../formats/gguf-reader.js';
import type { GgufFile, GgufValue } from '../formats/gguf-types.js';
import { type GgufTensorSource, planGguf } from '../formats/gguf-writer.js';
import type { LoadProgress } from '../model/backend.js';
import type { Tensor } from '../model/tensor.js';
import { statOrThrow } from './read-file.js';

/** First read when parsing a header; doubled until the header fits. */
const INITIAL_HEADER_READ = 1 << 20;

async function readAt(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0)
      throw new ModelFormatError('file ended while reading (was it truncated meanwhile?)', {
        file: path,
        offset: position + done,
      });
    done += bytesRead;
  }
  return buffer;
}

/**
 * Opens a GGUF file lazily: reads the header, metadata and tensor infos (growing the read until they fit, never
 * past the file); `readTensor` reads one tensor's bytes on demand. Call `close()` when done.
 */
export async function openGgufFile(path: string): Promise<GgufFile & { close(): Promise<void> }> {
  const info = await statOrThrow(path, 'GGUF file');
  if (info.isDirectory()) throw new InvalidArgumentError('GGUF path is a directory', { file: path });
  const fileSize = info.size;
  const handle = await open(path, 'r');
  try {
    let length = Math.min(fileSize, INITIAL_HEADER_READ);
    for (;;) {
      const prefix = await readAt(handle, 0, length, path);
      try {
        const header = parseGgufHeader(prefix, fileSize, path);
        let closed = false;
        return {
          ...header,
          file: path,
          fileSize,
          async readTensor(name: string): Promise<Tensor> {
            if (closed) throw new InvalidArgumentError('the GGUF file is closed', { file: path, field: name });
            const t = findGgufTensor(header.tensors, name, path);
            return ggufTensorFromBytes(t, await readAt(handle, t.offset, t.byteSize, path), path);
          },
          async close(): Promise<void> {
            if (closed) return;
            closed = true;
            await handle.close();
          },
        };
      } catch (error) {
        if (!(error instanceof GgufNeedMoreBytes)) throw error;
        length = Math.min(fileSize, Math.max(length * 2, error.needed + 4096));
      }
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface WriteGgufFileOptions {
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: readonly (Tensor | GgufTensorSource)[];
  alignment?: number;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

/**
 * Writes a GGUF v3 file tensor by tensor (into `<path>.partial`, renamed when complete): memory use is the header
 * plus one tensor. Tensors may be given as `GgufTensorSource`s that produce their bytes when written.
 */
export async function writeGgufFile(path: string, options: WriteGgufFileOptions): Promise<{ bytes: number }> {
  const layout = planGguf(options.metadata, options.tensors, options.alignment);
  const partial = `${path}.partial`;
  const handle = await open(partial, 'w');
  let ok = false;
  try {
    await handle.write(layout.header, 0, layout.header.length, 0);
    const zeros = new Uint8Array(layout.alignment);
    for (let i = 0; i < options.tensors.length; i++) {
      throwIfAborted(options.signal, 'Writing the GGUF file');
      const t = options.tensors[i];
      const data = 'data' in t ? t.data : await t.read();
      if (data.byteLength !== layout.byteSizes[i]) {
        throw new InvalidArgumentError(
          `holds ${data.byteLength} bytes, ${t.dtype} [${t.shape.join(', ')}] needs ${layout.byteSizes[i]}`,
          {
            field: t.name,
          },
        );
      }
      await handle.write(data, 0, data.byteLength, layout.offsets[i]);
      const end = layout.offsets[i] + data.byteLength;
      const next = i + 1 < layout.offsets.length ? layout.offsets[i + 1] : layout.totalSize;
      if (next > end) await handle.write(zeros, 0, next - end, end);
      options.onProgress?.({ fraction: (i + 1) / options.tensors.length, stage: `writing ${t.name}` });
    }
    await handle.close();
    await rename(partial, path);
    ok = true;
    return { bytes: layout.totalSize };
  } finally {
    if (!ok) {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
    }
  }
}
