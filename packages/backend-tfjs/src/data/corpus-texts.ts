import { throwIfAborted } from '@slmkit/core';
import { type InputFile, type ReadDocumentsOptions, readDocuments } from './sources.js';
import { readTextLines } from './text-lines.js';

/**
 * Streams raw training text for a tokenizer: each line of a text file with its `\n` (so newlines are learned), the
 * field of each JSONL record, HTML as it is. No cleaning: feed it the output of `slm data`.
 */
export async function* readCorpusTexts(
  files: readonly InputFile[],
  options: Pick<ReadDocumentsOptions, 'jsonlField' | 'signal' | 'onBytes' | 'onInvalidRecord'> = {},
): AsyncGenerator<string> {
  for (const file of files) {
    throwIfAborted(options.signal, 'Reading the corpus');
    if (file.format === 'jsonl') {
      for await (const doc of readDocuments([file], options)) yield doc.text;
      continue;
    }
    let last = 0;
    const onBytes = options.onBytes
      ? (bytes: number) => {
          options.onBytes?.(bytes - last);
          last = bytes;
        }
      : undefined;
    for await (const line of readTextLines(file.path, { signal: options.signal, onBytes })) yield `${line}\n`;
  }
}
