import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  /** One line for `--help`. */
  description: string;
  /** Placeholder shown in help, e.g. `<path>`. */
  valueName?: string;
};

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Where a command writes: stdout carries only the result; everything else goes to stderr. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Fired on Ctrl-C. */
  signal: AbortSignal;
  /** True when stderr is a terminal (progress bars are drawn only then). */
  interactive: boolean;
  verbose: boolean;
}

/** One `slm` sub-command. Commands live in `commands/<name>.ts` and are listed in `commands/index.ts`. */
export interface CliCommand {
  name: string;
  /** One line for `slm --help`. */
  summary: string;
  /** e.g. `slm generate [options]` */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Accepts positional arguments (e.g. `slm inspect <file>`). */
  allowPositionals?: boolean;
  run(values: ParsedValues, positionals: string[], io: CliIo): Promise<number>;
}
