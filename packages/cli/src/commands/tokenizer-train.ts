import { stat } from 'node:fs/promises';
import { InvalidArgumentError } from '@slmkit/core';
import type { CliCommand, CliIo } from '../cli-command.js';
import { booleanOption, numberOption, stringListOption, stringOption } from '../options.js';
import { formatBytes, ProgressBar } from '../progress-bar.js';

const KINDS = ['byte-level', 'spm'] as const;

export const command: CliCommand = {
  name: 'tokenizer',
  summary: "'tokenizer train': train a BPE tokenizer (byte-level or SentencePiece-style) into tokenizer.json",
  usage: 'slm tokenizer train <file|folder|glob|npm:<package>>... --vocab-size <n> --out <dir> [options]',
  allowPositionals: true,
  options: {
    'vocab-size': {
      type: 'string',
      description: 'total vocabulary size, special tokens included (required)',
      valueName: '<n>',
    },
    out: {
      type: 'string',
      description: 'folder for tokenizer.json and tokenizer_config.json (required)',
      valueName: '<dir>',
    },
    kind: {
      type: 'string',
      description: 'byte-level (GPT-2 style, default) or spm (SentencePiece-style, byte fallback)',
      valueName: '<kind>',
    },
    special: {
      type: 'string',
      multiple: true,
      description: 'an extra special token, e.g. <|user|> (repeatable)',
      valueName: '<token>',
    },
    bos: {
      type: 'string',
      description: 'BOS token (default <s> for spm, <|endoftext|> for byte-level)',
      valueName: '<token>',
    },
    eos: {
      type: 'string',
      description: 'EOS token (default </s> for spm, <|endoftext|> for byte-level)',
      valueName: '<token>',
    },
    unk: {
      type: 'string',
      description: 'UNK token (default <unk> for spm, none for byte-level)',
      valueName: '<token>',
    },
    pad: { type: 'string', description: 'PAD token (default none)', valueName: '<token>' },
    'add-bos': { type: 'boolean', description: 'add BOS when encoding (default: spm yes, byte-level no)' },
    'no-add-bos': { type: 'boolean', description: 'do not add BOS when encoding' },
    'add-eos': { type: 'boolean', description: 'add EOS when encoding (default no)' },
    'min-frequency': {
      type: 'string',
      description: 'merge only pairs seen at least this often (default 2)',
      valueName: '<n>',
    },
    'character-coverage': {
      type: 'string',
      description: 'spm: share of characters in the alphabet, rest byte fallback (default 0.9995)',
      valueName: '<x>',
    },
    'max-length': {
      type: 'string',
      description: 'model_max_length in tokenizer_config.json (default 2048)',
      valueName: '<n>',
    },
    'jsonl-field': {
      type: 'string',
      description: 'field of JSONL records with the text (default text)',
      valueName: '<name>',
    },
    json: { type: 'boolean', description: 'print a JSON summary on stdout instead of the file paths' },
  },
  async run(values, positionals, io: CliIo) {
    const [sub, ...inputs] = positionals;
    if (sub !== 'train') {
      throw new InvalidArgumentError(
        `unknown sub-command "${sub ?? ''}"; usage: slm tokenizer train <inputs>... --vocab-size <n> --out <dir>`,
        { field: 'sub-command', value: sub },
      );
    }
    const vocabSize = numberOption(values, 'vocab-size', { integer: true, min: 1 });
    if (vocabSize === undefined) throw new InvalidArgumentError('pass --vocab-size <n>', { field: '--vocab-size' });
    const outDir = stringOption(values, 'out');
    if (outDir === undefined) throw new InvalidArgumentError('pass --out <dir>', { field: '--out' });
    const kindValue = stringOption(values, 'kind') ?? 'byte-level';
    const kind = KINDS.find((k) => k === kindValue);
    if (!kind)
      throw new InvalidArgumentError(`expects byte-level or spm, got "${kindValue}"`, {
        field: '--kind',
        value: kindValue,
      });
    const addBos = booleanOption(values, 'no-add-bos') ? false : booleanOption(values, 'add-bos') ? true : undefined;

    const data = await import('@slmkit/backend-tfjs/data');
    const training = await import('@slmkit/backend-tfjs/tokenizer-training');
    const files = await data.resolveInputs(inputs);
    let totalBytes = 0;
    for (const file of files) totalBytes += (await stat(file.path)).size;
    io.stderr.write(
      `slm tokenizer train: ${files.length} files, ${formatBytes(totalBytes)}, ${kind}, vocab ${vocabSize}\n`,
    );
    const reading = new ProgressBar(io.stderr, 'counting', { interactive: io.interactive });
    let merging: ProgressBar | undefined;
    let bytesRead = 0;
    const started = performance.now();
    const trained = await training.trainTokenizer(
      data.readCorpusTexts(files, {
        jsonlField: stringOption(values, 'jsonl-field'),
        signal: io.signal,
        onBytes: (delta) => {
          bytesRead += delta;
        },
      }),
      {
        kind,
        vocabSize,
        specialTokens: stringListOption(values, 'special'),
        bosToken: stringOption(values, 'bos'),
        eosToken: stringOption(values, 'eos'),
        unkToken: stringOption(values, 'unk'),
        padToken: stringOption(values, 'pad'),
        addBos,
        addEos: booleanOption(values, 'add-eos') || undefined,
        minFrequency: numberOption(values, 'min-frequency', { integer: true, min: 1 }),
        characterCoverage: numberOption(values, 'character-coverage', { min: 0, max: 1 }),
        modelMaxLength: numberOption(values, 'max-length', { integer: true, min: 1 }),
        signal: io.signal,
        onProgress: (p) => {
          if (p.phase === 'counting')
            reading.update(totalBytes > 0 ? bytesRead / totalBytes : undefined, `${p.done} lines`);
          else {
            if (!merging) {
              reading.done();
              merging = new ProgressBar(io.stderr, 'merging', { interactive: io.interactive });
            }
            merging.update(p.total ? p.done / p.total : undefined, `${p.done} merges`);
          }
        },
      },
    );
    merging?.done();
    const seconds = (performance.now() - started) / 1000;
    const paths = await training.saveTrainedTokenizer(trained, outDir);
    io.stderr.write(
      `trained ${trained.kind} tokenizer: ${trained.vocabSize} tokens (${trained.specialTokens.length} special, ` +
        `${trained.baseSize} base, ${trained.mergeCount} merges) from ${trained.stats.characters.toLocaleString('en-US')} characters, ` +
        `${trained.stats.uniqueWords.toLocaleString('en-US')} unique words in ${seconds.toFixed(2)} s\n`,
    );
    if (booleanOption(values, 'json')) {
      io.stdout.write(
        `${JSON.stringify({ files: paths, kind: trained.kind, vocabSize: trained.vocabSize, merges: trained.mergeCount, seconds, stats: trained.stats })}\n`,
      );
    } else io.stdout.write(`${paths.tokenizerJson}\n${paths.tokenizerConfig}\n`);
    return 0;
  },
};
