import type { LoadedModel } from '@slmkit/core';
import { createBackend, DEFAULT_BACKEND } from './backends.js';
import type { CliIo, ParsedValues } from './cli-command.js';
import { requireModel } from './default-model.js';
import { numberOption, stringOption } from './options.js';

export interface OpenedModel {
  model: LoadedModel;
  dispose(): Promise<void>;
}

/** Creates the backend named by --backend and loads --model (+ --tokenizer) with --threads / --context-size. */
export async function openModelFromOptions(values: ParsedValues, io: CliIo): Promise<OpenedModel> {
  const threads = numberOption(values, 'threads', { integer: true, min: 1, max: 1024 });
  const contextSize = numberOption(values, 'context-size', { integer: true, min: 1 });
  const files = requireModel(stringOption(values, 'model'), stringOption(values, 'tokenizer'));
  const backend = await createBackend(stringOption(values, 'backend') ?? DEFAULT_BACKEND, { threads });
  try {
    const model = await backend.load(files, { threads, contextSize, signal: io.signal });
    if (io.verbose) {
      io.stderr.write(
        `loaded ${model.spec.name} on ${model.info.backend}/${model.info.device} (${model.info.weightType}, ${model.info.threads} threads) in ${model.info.loadMs.toFixed(0)} ms\n`,
      );
    }
    return {
      model,
      async dispose() {
        await model.dispose();
        await backend.dispose();
      },
    };
  } catch (error) {
    await backend.dispose();
    throw error;
  }
}
