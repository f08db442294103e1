import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, ModelFormatError, NotFoundError } from '../errors/index.js';

/** Reads a whole file, with typed errors for a missing path, a directory and an empty file. */
export async function readModelFile(path: string, what = 'model file'): Promise<Uint8Array> {
  const info = await statOrThrow(path, what);
  if (info.isDirectory()) {
    throw new InvalidArgumentError(`${what} is a directory, expected a file`, { file: path });
  }
  if (info.size === 0) throw new ModelFormatError(`${what} is empty`, { file: path, offset: 0 });
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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
