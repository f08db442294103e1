import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelFormatError, NotFoundError } from '@slmkit/core';
import type { RandomAccessFile } from './runtime-seam.js';

/** Opens a local file for synchronous reads at any position (Node). A short read is a ModelFormatError. */
export function openRandomAccessFile(path: string): RandomAccessFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new NotFoundError(`cannot open the file: ${(error as Error).message}`, { file: path, cause: error });
  }
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, into) {
      const n = readSync(fd, into, 0, into.byteLength, position);
      if (n !== into.byteLength) {
        throw new ModelFormatError(`short read: ${n} of ${into.byteLength} bytes at ${position}`, {
          file: path,
          offset: position,
        });
      }
    },
    close: () => closeSync(fd),
  };
}
