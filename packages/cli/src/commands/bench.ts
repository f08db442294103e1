import { dirname, resolve } from 'node:path';
import {
  compareResults,
  progressLine,
  readResults,
  readSuite,
  renderComparison,
  renderMarkdown,
  renderRunToRun,
  runSuite,
  writeReports,
} from '@slmkit/bench';
import { InvalidArgumentError } from '@slmkit/core';
import type { CliCommand, CliIo, ParsedValues } from '../cli-command.js';
import { booleanOption, numberOption, stringOption } from '../options.js';

async function runCompare(positionals: string[], values: ParsedValues, io: CliIo): Promise<number> {
  if (positionals.length !== 3) {
    throw new InvalidArgumentError('usage: slm bench compare <before.json> <after.json>', {
      field: 'compare',
      value: positionals.slice(1),
    });
  }
  const threshold = numberOption(values, 'threshold', { min: 0 }) ?? 0.1;
  const [before, after] = await Promise.all([readResults(positionals[1]), readResults(positionals[2])]);
  const comparison = compareResults(before, after, threshold);
  if (booleanOption(values, 'spread')) {
    // Run-to-run mode: two runs of the same suite, decode tokens/s per cell within the threshold?
    const { spread } = comparison;
    io.stdout.write(
      booleanOption(values, 'json') ? `${JSON.stringify(spread)}\n` : renderRunToRun(spread, before, after),
    );
    return spread.rows.length > 0 && spread.within === spread.rows.length ? 0 : 1;
  }
  io.stdout.write(
    booleanOption(values, 'json') ? `${JSON.stringify(comparison)}\n` : renderComparison(comparison, threshold),
  );
  return comparison.regressions.length > 0 || comparison.newlyFailed.length > 0 ? 1 : 0;
}

async function runReport(positionals: string[], values: ParsedValues, io: CliIo): Promise<number> {
  if (positionals.length !== 2) {
    throw new InvalidArgumentError('usage: slm bench report <results.json> [--out <dir>]', {
      field: 'report',
      value: positionals.slice(1),
    });
  }
  const result = await readResults(positionals[1]);
  const outDir = resolve(stringOption(values, 'out') ?? dirname(resolve(positionals[1])));
  const paths = await writeReports(result, outDir);
  io.stderr.write(`bench: wrote ${paths.json}, ${paths.markdown}, ${paths.html}\n`);
  io.stdout.write(renderMarkdown(result));
  return 0;
}

export const command: CliCommand = {
  name: 'bench',
  summary: 'benchmark models x backends x scenarios (speed, memory, perplexity, accuracy, agreement); compare two runs',
  usage:
    'slm bench --suite <file.json> [--out <dir>] [options]  |  slm bench compare <before.json> <after.json> [--spread]  |  slm bench report <results.json> [--out <dir>]',
  allowPositionals: true,
  options: {
    suite: { type: 'string', description: 'suite file (JSON): models, backends, scenarios', valueName: '<file>' },
    out: {
      type: 'string',
      description: 'folder for results.jsonl, results.json, report.md, report.html (default bench-results)',
      valueName: '<dir>',
    },
    cache: {
      type: 'string',
      description: 'folder for generated / converted models (default <out>/cache)',
      valueName: '<dir>',
    },
    threads: {
      type: 'string',
      description: 'CPU threads for every backend (default: cores in the CPU quota)',
      valueName: '<n>',
    },
    repetitions: {
      type: 'string',
      description: 'minimum timed repetitions per measurement (default: the suite, else 3)',
      valueName: '<n>',
    },
    warmup: { type: 'string', description: 'untimed warm-up runs (default: the suite, else 1)', valueName: '<n>' },
    'min-duration': {
      type: 'string',
      description: 'keep repeating until the timed runs add up to this (ms; default 1000)',
      valueName: '<ms>',
    },
    timeout: {
      type: 'string',
      description: 'kill a cell and mark it failed after this (ms; default 300000)',
      valueName: '<ms>',
    },
    threshold: {
      type: 'string',
      description: 'compare: relative change counted as a regression (default 0.1)',
      valueName: '<x>',
    },
    spread: {
      type: 'boolean',
      description:
        'compare: only the run-to-run spread of decode tokens/s per cell (exit 1 if any is over the threshold)',
    },
    'no-pin': {
      type: 'boolean',
      description: 'do not pin single-threaded measurements to one CPU (default: pinned with taskset where available)',
    },
    json: { type: 'boolean', description: 'print JSON instead of Markdown on stdout' },
  },
  async run(values, positionals, io) {
    if (positionals[0] === 'compare') return runCompare(positionals, values, io);
    if (positionals[0] === 'report') return runReport(positionals, values, io);
    if (positionals.length > 0)
      throw new InvalidArgumentError(`unexpected argument "${positionals[0]}"`, {
        field: 'bench',
        value: positionals[0],
      });
    const suiteFile = stringOption(values, 'suite');
    if (!suiteFile)
      throw new InvalidArgumentError('pass --suite <file.json> (see packages/bench/suites/quick.json)', {
        field: '--suite',
      });
    const overrides = {
      ...(numberOption(values, 'threads', { integer: true, min: 1 }) !== undefined
        ? { threads: numberOption(values, 'threads', { integer: true, min: 1 }) }
        : {}),
      ...(numberOption(values, 'repetitions', { integer: true, min: 1 }) !== undefined
        ? { minRepetitions: numberOption(values, 'repetitions', { integer: true, min: 1 }) }
        : {}),
      ...(numberOption(values, 'warmup', { integer: true, min: 0 }) !== undefined
        ? { warmup: numberOption(values, 'warmup', { integer: true, min: 0 }) }
        : {}),
      ...(numberOption(values, 'min-duration', { min: 0 }) !== undefined
        ? { minDurationMs: numberOption(values, 'min-duration', { min: 0 }) }
        : {}),
      ...(numberOption(values, 'timeout', { integer: true, min: 1 }) !== undefined
        ? { timeoutMs: numberOption(values, 'timeout', { integer: true, min: 1 }) }
        : {}),
    };
    const outDir = resolve(stringOption(values, 'out') ?? 'bench-results');
    const cacheDir = resolve(stringOption(values, 'cache') ?? `${outDir}/cache`);
    const suite = await readSuite(suiteFile);
    const result = await runSuite({
      suite,
      outDir,
      cacheDir,
      overrides,
      pinCpu: !booleanOption(values, 'no-pin'),
      signal: io.signal,
      onEvent: (event) => {
        const line = progressLine(event);
        if (line) io.stderr.write(`${line}\n`);
      },
    });
    const paths = await writeReports(result, outDir);
    io.stderr.write(`bench: wrote ${paths.json}, ${paths.markdown}, ${paths.html}\n`);
    io.stdout.write(booleanOption(values, 'json') ? `${JSON.stringify(result)}\n` : renderMarkdown(result));
    return result.cells.some((c) => c.status === 'failed') ? 2 : 0;
  },
};
