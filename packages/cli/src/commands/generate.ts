import { generate } from '@slmkit/core';
import type { CliCommand } from '../cli-command.js';
import { openModelFromOptions } from '../open-model.js';
import { booleanOption, modelOptions, numberOption, stringListOption, stringOption } from '../options.js';

export const command: CliCommand = {
  name: 'generate',
  summary: 'continue a prompt; streams the continuation (not the prompt) to stdout',
  usage: 'slm generate --model <path> [--tokenizer <path>] --prompt <text> [options]',
  options: {
    ...modelOptions,
    prompt: { type: 'string', description: 'text to continue (default: empty, i.e. BOS only)', valueName: '<text>' },
    'max-tokens': { type: 'string', description: 'most tokens to generate (default 256)', valueName: '<n>' },
    temperature: { type: 'string', description: '0 = greedy (default 0.8)', valueName: '<t>' },
    'top-k': { type: 'string', description: 'keep the k most likely tokens, 0 = off (default 40)', valueName: '<k>' },
    'top-p': { type: 'string', description: 'nucleus sampling threshold, 1 = off (default 0.95)', valueName: '<p>' },
    'min-p': {
      type: 'string',
      description: 'drop tokens below p x the best one, 0 = off (default 0.05)',
      valueName: '<p>',
    },
    'repeat-penalty': {
      type: 'string',
      description: 'penalty for recent tokens, 1 = off (default 1)',
      valueName: '<x>',
    },
    'presence-penalty': { type: 'string', description: 'default 0', valueName: '<x>' },
    'frequency-penalty': { type: 'string', description: 'default 0', valueName: '<x>' },
    seed: { type: 'string', description: 'sampler seed: same seed, same text (default: random)', valueName: '<n>' },
    stop: { type: 'string', multiple: true, description: 'stop at this text (repeatable)', valueName: '<text>' },
    json: {
      type: 'boolean',
      description: 'print one JSON object: { text, tokens, promptTokens, finishReason, timings }',
    },
  },
  async run(values, _positionals, io) {
    const maxTokens = numberOption(values, 'max-tokens', { integer: true, min: 0 });
    const sampling = {
      temperature: numberOption(values, 'temperature', { min: 0 }),
      topK: numberOption(values, 'top-k', { integer: true, min: 0 }),
      topP: numberOption(values, 'top-p', { min: 0, max: 1 }),
      minP: numberOption(values, 'min-p', { min: 0, max: 1 }),
      repeatPenalty: numberOption(values, 'repeat-penalty', { min: 0 }),
      presencePenalty: numberOption(values, 'presence-penalty'),
      frequencyPenalty: numberOption(values, 'frequency-penalty'),
      seed: numberOption(values, 'seed', { integer: true, min: 0, max: 2 ** 32 - 1 }),
    };
    const json = booleanOption(values, 'json');
    const opened = await openModelFromOptions(values, io);
    try {
      let text = '';
      const tokens: number[] = [];
      for await (const part of generate({
        model: opened.model,
        prompt: stringOption(values, 'prompt') ?? '',
        maxTokens,
        stop: stringListOption(values, 'stop'),
        signal: io.signal,
        stopOnAbort: true,
        ...sampling,
      })) {
        if (part.type === 'text-delta') {
          text += part.text;
          if (!json) io.stdout.write(part.text);
        } else if (part.type === 'token') {
          tokens.push(part.id);
        } else {
          const result = {
            text,
            tokens,
            promptTokens: part.usage.promptTokens,
            finishReason: part.finishReason,
            timings: part.timings,
            backend: opened.model.info,
          };
          if (json) io.stdout.write(`${JSON.stringify(result)}\n`);
          else {
            io.stdout.write('\n');
            if (io.verbose) {
              const t = part.timings;
              io.stderr.write(
                `${part.usage.completionTokens} tokens, ${t.decodeTokensPerSecond.toFixed(0)} tok/s decode, ${t.prefillTokensPerSecond.toFixed(0)} tok/s prefill, first token after ${t.timeToFirstTokenMs.toFixed(1)} ms (${part.finishReason})\n`,
              );
            }
          }
        }
      }
      return 0;
    } finally {
      await opened.dispose();
    }
  },
};
