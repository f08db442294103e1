import { createReadStream } from 'node:fs';
import { throwIfAborted } from '@slmkit/core';

export interface LineReadOptions {
  signal?: AbortSignal;
  /** Called after each chunk with the bytes read so far from this file. */
  onBytes?: (bytes: number) => void;
}

/** Streams the lines of a UTF-8 file (without their `\n`; a trailing `\r` is dropped). Holds one chunk at a time. */
export async function* readTextLines(path: string, options: LineReadOptions = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let bytes = 0;
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 })) {
    throwIfAborted(options.signal, `Reading ${path}`);
    const buf = chunk as Buffer;
    bytes += buf.length;
    options.onBytes?.(bytes);
    let text = pending + decoder.decode(buf, { stream: true });
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield text.slice(start, end);
      start = nl + 1;
    }
    pending = text.slice(start);
  }
  pending += decoder.decode();
  if (pending.endsWith('\r')) pending = pending.slice(0, -1);
  if (pending.length > 0) yield pending;
}
