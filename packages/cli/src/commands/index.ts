import type { CliCommand } from '../cli-command.js';

/** Every `slm` command, in the order `slm --help` lists them. Add one line per command. */
export async function loadCommands(): Promise<CliCommand[]> {
  const modules = await Promise.all([
    import('./generate.js'),
    import('./tokenize.js'),
    import('./inspect.js'),
    import('./convert.js'),
    import('./chat.js'),
    import('./serve.js'),
    import('./data.js'),
    import('./tokenizer-train.js'),
    import('./bench.js'),
    import('./pull.js'),
    import('./train.js'),
    import('./finetune.js'),
    import('./distill.js'),
    // (new commands: one import line each, above this comment)
  ]);
  return modules.map((m) => m.command);
}
