import { InvalidArgumentError, type Tokenizer } from '@slmkit/core';
import type { CliCommand, ParsedValues } from '../cli-command.js';
import { booleanOption, stringOption } from '../options.js';

async function openTokenizer(values: ParsedValues): Promise<Tokenizer> {
  const node = await import('@slmkit/core/node');
  const tokenizerPath = stringOption(values, 'tokenizer');
  const modelPath = stringOption(values, 'model');
  if (modelPath !== undefined) {
    return (await node.loadModelData(tokenizerPath ? { path: modelPath, tokenizerPath } : { path: modelPath }))
      .tokenizer;
  }
  if (tokenizerPath !== undefined) return node.loadTokenizerFromPath(tokenizerPath);
  throw new InvalidArgumentError('pass --tokenizer <path> or --model <path>', { field: '--tokenizer' });
}

export const command: CliCommand = {
  name: 'tokenize',
  summary: 'print the token ids of a text (one JSON array; --json adds the pieces)',
  usage: 'slm tokenize (--tokenizer <path> | --model <path>) [--prompt] <text> [options]',
  allowPositionals: true,
  options: {
    model: { type: 'string', description: 'take the tokenizer from this model', valueName: '<path>' },
    tokenizer: {
      type: 'string',
      description: 'tokenizer file or folder (tokenizer.json, .model, tok*.bin, GGUF)',
      valueName: '<path>',
    },
    prompt: { type: 'string', description: 'text to tokenize (or give it as the argument)', valueName: '<text>' },
    'no-special': { type: 'boolean', description: 'do not add BOS/EOS' },
    'parse-special': { type: 'boolean', description: 'turn special-token text such as <s> into its id' },
    json: { type: 'boolean', description: 'print { ids, pieces, count }' },
  },
  async run(values, positionals, io) {
    const text = stringOption(values, 'prompt') ?? positionals.join(' ');
    const tokenizer = await openTokenizer(values);
    const ids = tokenizer.encode(text, {
      addSpecialTokens: !booleanOption(values, 'no-special'),
      parseSpecialTokens: booleanOption(values, 'parse-special'),
    });
    if (booleanOption(values, 'json')) {
      const pieces = ids.map((id) => tokenizer.idToToken(id) ?? '');
      io.stdout.write(`${JSON.stringify({ ids, pieces, count: ids.length })}\n`);
    } else {
      io.stdout.write(`${JSON.stringify(ids)}\n`);
    }
    return 0;
  },
};
