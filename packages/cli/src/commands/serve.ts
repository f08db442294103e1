import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { detectModelFormat } from '@slmkit/core/node';
import {
  createDemoServer,
  DEFAULT_BODY_LIMIT,
  DEFAULT_CONCURRENCY,
  DEFAULT_HOST,
  DEFAULT_MAX_TOKENS_LIMIT,
  DEFAULT_PORT,
} from '@slmkit/demo';
import type { CliCommand } from '../cli-command.js';
import { openModelFromOptions } from '../open-model.js';
import { booleanOption, modelOptions, numberOption, stringOption } from '../options.js';

/** The tokenizer file a llama2.c checkpoint uses when none is named (the same rule core's loader follows). */
function llama2cTokenizerBeside(modelPath: string, vocabSize: number): string | undefined {
  for (const name of [`tok${vocabSize}.bin`, 'tokenizer.bin']) {
    const candidate = join(dirname(modelPath), name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const command: CliCommand = {
  name: 'serve',
  summary: 'serve a model over an OpenAI-compatible HTTP API, with the demo web chat at /',
  usage: 'slm serve [--model <path>] [--port <n>] [--api-key <key>] [options]',
  options: {
    ...modelOptions,
    host: {
      type: 'string',
      description: `address to bind (default ${DEFAULT_HOST}: this machine only)`,
      valueName: '<addr>',
    },
    port: { type: 'string', description: `port (default ${DEFAULT_PORT}; 0 = any free port)`, valueName: '<n>' },
    'api-key': {
      type: 'string',
      description: 'require "Authorization: Bearer <key>" on /v1/* and /metrics',
      valueName: '<key>',
    },
    'model-id': {
      type: 'string',
      description: 'the name clients pass as "model" (default: the file name)',
      valueName: '<id>',
    },
    concurrency: {
      type: 'string',
      description: `generations run at once per model (default ${DEFAULT_CONCURRENCY})`,
      valueName: '<n>',
    },
    'max-tokens-limit': {
      type: 'string',
      description: `largest max_tokens accepted (default ${DEFAULT_MAX_TOKENS_LIMIT})`,
      valueName: '<n>',
    },
    'body-limit': {
      type: 'string',
      description: `largest request body in bytes (default ${DEFAULT_BODY_LIMIT})`,
      valueName: '<bytes>',
    },
    'chat-template': {
      type: 'string',
      description: "a Jinja chat template to use instead of the model's own",
      valueName: '<jinja>',
    },
    'no-model-files': { type: 'boolean', description: 'do not offer the model file to the web UI for on-device mode' },
    log: { type: 'boolean', description: 'log each request to stderr' },
  },
  async run(values, _positionals, io) {
    const port = numberOption(values, 'port', { integer: true, min: 0, max: 65535 });
    const concurrency = numberOption(values, 'concurrency', { integer: true, min: 1, max: 256 });
    const maxTokensLimit = numberOption(values, 'max-tokens-limit', { integer: true, min: 1 });
    const bodyLimit = numberOption(values, 'body-limit', { integer: true, min: 1024 });
    const opened = await openModelFromOptions(values, io);
    const model = opened.model;
    const modelPath = stringOption(values, 'model');
    const id =
      stringOption(values, 'model-id') ??
      (modelPath ? basename(modelPath).replace(/\.(bin|gguf)$/i, '') : model.spec.name);
    // The page can run llama2.c checkpoints and ONNX folders itself: offer them for on-device mode, judged by the
    // file on disk (the backend may have converted it, e.g. llama.cpp runs a GGUF made from the checkpoint).
    const diskFormat = modelPath === undefined ? undefined : await detectModelFormat(modelPath);
    const offerFiles = !booleanOption(values, 'no-model-files') && modelPath !== undefined;
    let files: { model: string; tokenizer?: string } | undefined;
    if (offerFiles && diskFormat === 'llama2c') {
      const tokenizerPath =
        stringOption(values, 'tokenizer') ?? llama2cTokenizerBeside(modelPath, model.spec.vocabSize);
      if (tokenizerPath) files = { model: modelPath, tokenizer: tokenizerPath };
    } else if (offerFiles && diskFormat === 'onnx-folder') {
      files = { model: modelPath };
    }
    const server = await createDemoServer({
      models: [
        {
          id,
          model,
          concurrency,
          chatTemplate: stringOption(values, 'chat-template'),
          ...(files ? { files } : {}),
        },
      ],
      host: stringOption(values, 'host'),
      port,
      apiKey: stringOption(values, 'api-key'),
      maxTokensLimit,
      bodyLimit,
      logger: booleanOption(values, 'log'),
    });
    try {
      const url = await server.listen();
      io.stdout.write(`${url}\n`);
      io.stderr.write(
        `serving "${id}" (${model.info.backend}/${model.info.device}) at ${url}/v1 — demo chat at ${url}/ — Ctrl-C stops\n`,
      );
      if (io.signal.aborted) return 0;
      await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
      io.stderr.write('stopping\n');
      return 0;
    } finally {
      await server.close(); // disposes the model
      await opened.dispose();
    }
  },
};
