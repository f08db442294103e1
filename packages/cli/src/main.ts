import { parseArgs } from 'node:util';
import { SlmError } from '@slmkit/core';
import type { CliCommand, CliIo, OptionSpec, ParsedValues } from './cli-command.js';
import { loadCommands } from './commands/index.js';

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
  verbose: { type: 'boolean', description: 'print stack traces and extra diagnostics on stderr' },
};

function optionLine(name: string, spec: OptionSpec): string {
  const flag = `--${name}${spec.type === 'string' ? ` ${spec.valueName ?? '<value>'}` : ''}`;
  const short = spec.short ? `-${spec.short}, ` : '    ';
  return `  ${short}${flag.padEnd(30)} ${spec.description}`;
}

export function commandHelp(command: CliCommand): string {
  const options = { ...command.options, ...GLOBAL_OPTIONS };
  return [
    `Usage: ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...Object.entries(options).map(([name, spec]) => optionLine(name, spec)),
    '',
  ].join('\n');
}

function mainHelp(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Usage: slm <command> [options]',
    '',
    'slmkit: small language models on the device.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'slm <command> --help' for the options of a command.",
    '',
  ].join('\n');
}

function describeError(error: unknown, verbose: boolean): string {
  if (SlmError.isInstance(error)) {
    return verbose && error.stack ? error.stack : `${error.name}: ${error.message}`;
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ) {
      return error.message;
    }
    return verbose && error.stack ? error.stack : `unexpected error: ${error.message} (run with --verbose for details)`;
  }
  return `unexpected error: ${String(error)}`;
}

export interface MainOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
  signal?: AbortSignal;
}

/** Runs `slm` with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const verbose = argv.includes('--verbose');
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? stderr : stdout).write(mainHelp(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    stdout.write('0.1.0\n');
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    stderr.write(`slm: unknown command "${name}". Commands: ${commands.map((c) => c.name).join(', ')}\n`);
    return 2;
  }
  let values: ParsedValues;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, ...GLOBAL_OPTIONS },
      strict: true,
      allowPositionals: command.allowPositionals ?? false,
    });
    values = parsed.values as ParsedValues;
    positionals = parsed.positionals;
  } catch (error) {
    stderr.write(`slm ${command.name}: ${describeError(error, false)}\nRun 'slm ${command.name} --help' for usage.\n`);
    return 2;
  }
  if (values.help) {
    stdout.write(commandHelp(command));
    return 0;
  }
  const io: CliIo = {
    stdout,
    stderr,
    stdin: options.stdin ?? process.stdin,
    signal: options.signal ?? new AbortController().signal,
    interactive: Boolean((stderr as NodeJS.WriteStream).isTTY),
    verbose,
  };
  try {
    return await command.run(values, positionals, io);
  } catch (error) {
    stderr.write(`slm ${command.name}: ${describeError(error, verbose)}\n`);
    return 1;
  }
}
