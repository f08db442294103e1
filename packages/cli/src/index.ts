export type { CliCommand, CliIo, OptionSpec, ParsedValues } from './cli-command.js';
export { createBackend, backendNames, DEFAULT_BACKEND } from './backends.js';
export { main } from './main.js';
