import { constants } from 'node:buffer';
import { open, readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, ModelFormatError, NotFoundError, UnsupportedFeatureError } from '../errors/index.js';

/** Reads a whole file, with typed errors for a missing path, a directory and an empty file. */
export async function readModelFile(path: string, what = 'model file'): Promise<Uint8Array> {
  const info = await statOrThrow(path, what);
  if (info.isDirectory()) {
    throw new InvalidArgumentError(`${what} is a directory, expected a file`, { file: path });
  }
  if (info.size === 0) throw new ModelFormatError(`${what} is empty`, { file: path, offset: 0 });
  // fs.readFile stops at 2 GiB (ERR_FS_FILE_TOO_LARGE); a 1B-parameter f32 GGUF is 4.1 GB.
  if (info.size > READ_FILE_LIMIT) return readFileInChunks(path, info.size, what);
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The largest file `fs.readFile` reads in one call (2 GiB - 1). */
const READ_FILE_LIMIT = 2 ** 31 - 1;

/**
 * Reads `size` bytes of a file into one array, `chunkBytes` at a time (for files over fs.readFile's 2 GiB limit).
 * Files larger than the largest array Node can allocate are an UnsupportedFeatureError naming the sizes.
 */
export async function readFileInChunks(
  path: string,
  size: number,
  what = 'model file',
  chunkBytes = 256 * 2 ** 20,
): Promise<Uint8Array> {
  if (size > constants.MAX_LENGTH) {
    throw new UnsupportedFeatureError(
      `${what} is ${size} bytes, more than the ${constants.MAX_LENGTH} bytes Node can hold in one array`,
      { file: path, value: size },
    );
  }
  const out = new Uint8Array(size);
  const handle = await open(path, 'r');
  try {
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(out, done, Math.min(chunkBytes, size - done), done);
      if (bytesRead === 0)
        throw new ModelFormatError(`${what} ended at byte ${done} of ${size}`, { file: path, offset: done });
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return out;
}

export async function statOrThrow(path: string, what = 'file') {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new NotFoundError(`${what} does not exist`, { file: path, cause: error });
    throw new InvalidArgumentError(`cannot read ${what} (${code ?? 'error'})`, { file: path, cause: error });
  }
}

/** True when a path exists (file or folder). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
