export { backendNames, createBackend, DEFAULT_BACKEND } from './backends.js';
export type { CliCommand, CliIo, OptionSpec, ParsedValues } from './cli-command.js';
export { main } from './main.js';
