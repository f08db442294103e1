import { stat } from 'node:fs/promises';
import { InvalidArgumentError, type Tokenizer } from '@slmkit/core';
import type { CliCommand, CliIo, ParsedValues } from '../cli-command.js';
import { booleanOption, numberOption, stringListOption, stringOption } from '../options.js';
import { formatBytes, ProgressBar } from '../progress-bar.js';

async function openTokenizer(path: string | undefined): Promise<Tokenizer | undefined> {
  if (path === undefined) return undefined;
  const node = await import('@slmkit/core/node');
  return node.loadTokenizerFile(path);
}

function choice<T extends string>(values: ParsedValues, name: string, allowed: readonly T[]): T | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`expects one of ${allowed.join(', ')}, got "${v}"`, {
      field: `--${name}`,
      value: v,
    });
  }
  return v as T;
}

export const command: CliCommand = {
  name: 'data',
  summary: 'build a train/val text data set: collect, clean, filter, de-duplicate, split; stats on stderr',
  usage: 'slm data <file|folder|glob|npm:<package>[:<glob>]>... --out <dir> [options]',
  allowPositionals: true,
  options: {
    out: {
      type: 'string',
      description: 'output folder for train/val files and stats.json (required)',
      valueName: '<dir>',
    },
    input: {
      type: 'string',
      multiple: true,
      description: 'an input (repeatable; same as a positional argument)',
      valueName: '<path>',
    },
    'jsonl-field': {
      type: 'string',
      description: 'field of JSONL records with the text, dots for nesting (default text)',
      valueName: '<name>',
    },
    'split-by': {
      type: 'string',
      description: 'documents of text files: paragraph (default), line, file',
      valueName: '<mode>',
    },
    format: { type: 'string', description: 'output: txt (blank-line separated, default) or jsonl', valueName: '<fmt>' },
    'val-fraction': {
      type: 'string',
      description: 'share of documents for validation (default 0.05)',
      valueName: '<x>',
    },
    seed: { type: 'string', description: 'seed of the hash-based split (default 0)', valueName: '<n>' },
    'min-chars': { type: 'string', description: 'drop shorter documents (default 16)', valueName: '<n>' },
    'max-chars': { type: 'string', description: 'drop longer documents (default 1000000)', valueName: '<n>' },
    'max-repetition': {
      type: 'string',
      description: 'drop documents with more repeated word trigrams (default 0.3)',
      valueName: '<x>',
    },
    'near-threshold': {
      type: 'string',
      description: 'MinHash Jaccard at which a document is a near-duplicate (default 0.8)',
      valueName: '<x>',
    },
    'no-dedup': { type: 'boolean', description: 'keep exact and near duplicates' },
    'no-near-dedup': { type: 'boolean', description: 'drop exact duplicates only' },
    'keep-markup': { type: 'boolean', description: 'do not strip HTML/XML tags and entities' },
    tokenizer: {
      type: 'string',
      description: 'count tokens with this tokenizer (tokenizer.json, folder, .model, GGUF, tok*.bin)',
      valueName: '<path>',
    },
    json: { type: 'boolean', description: 'print { files, stats } as JSON on stdout instead of the file paths' },
  },
  async run(values, positionals, io: CliIo) {
    const data = await import('@slmkit/backend-tfjs/data');
    const outDir = stringOption(values, 'out');
    if (outDir === undefined) throw new InvalidArgumentError('pass --out <dir>', { field: '--out' });
    const inputs = [...positionals, ...stringListOption(values, 'input')];
    const noDedup = booleanOption(values, 'no-dedup');
    const tokenizer = await openTokenizer(stringOption(values, 'tokenizer'));
    const files = await data.resolveInputs(inputs);
    let totalBytes = 0;
    for (const file of files) totalBytes += (await stat(file.path)).size;
    io.stderr.write(`slm data: ${files.length} files, ${formatBytes(totalBytes)}\n`);
    const bar = new ProgressBar(io.stderr, 'data', { interactive: io.interactive });
    const invalid: string[] = [];
    const { stats, files: written } = await data.prepareDataset({
      inputs,
      files,
      outDir,
      jsonlField: stringOption(values, 'jsonl-field'),
      documentMode: choice(values, 'split-by', data.DOCUMENT_MODES),
      format: choice(values, 'format', data.DATASET_FORMATS),
      valFraction: numberOption(values, 'val-fraction', { min: 0, max: 1 }),
      splitSeed: numberOption(values, 'seed', { integer: true, min: 0 }),
      clean: { stripMarkup: !booleanOption(values, 'keep-markup') },
      filter: {
        minChars: numberOption(values, 'min-chars', { integer: true, min: 0 }),
        maxChars: numberOption(values, 'max-chars', { integer: true, min: 1 }),
        maxRepetition: numberOption(values, 'max-repetition', { min: 0, max: 1 }),
      },
      dedup: {
        exact: !noDedup,
        near: !noDedup && !booleanOption(values, 'no-near-dedup'),
        nearThreshold: numberOption(values, 'near-threshold', { min: 0, max: 1 }),
      },
      countTokens: tokenizer ? (text) => tokenizer.encode(text, { addSpecialTokens: false }).length : undefined,
      signal: io.signal,
      onInvalidRecord: (file, line, reason) => {
        if (invalid.length < 5) invalid.push(`${file}:${line}: ${reason}`);
      },
      onProgress: (s) =>
        bar.update(
          totalBytes > 0 ? s.bytesRead / totalBytes : undefined,
          `${s.documentsRead} docs, ${s.kept.documents} kept`,
        ),
    });
    bar.done(`${stats.documentsRead} docs, ${stats.kept.documents} kept`);
    for (const line of invalid) io.stderr.write(`skipped ${line}\n`);
    io.stderr.write(data.formatDataStats(stats));
    if (stats.kept.documents === 0) io.stderr.write('slm data: warning: no document was kept\n');
    if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify({ files: written, stats })}\n`);
    else io.stdout.write(`${written.train}\n${written.val}\n${written.stats}\n`);
    return 0;
  },
};
