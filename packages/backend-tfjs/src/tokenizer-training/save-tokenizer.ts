import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainedTokenizer } from './train-tokenizer.js';

export interface SavedTokenizerPaths {
  tokenizerJson: string;
  tokenizerConfig: string;
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (created if missing). Node only. */
export async function saveTrainedTokenizer(trained: TrainedTokenizer, dir: string): Promise<SavedTokenizerPaths> {
  await mkdir(dir, { recursive: true });
  const paths = { tokenizerJson: join(dir, 'tokenizer.json'), tokenizerConfig: join(dir, 'tokenizer_config.json') };
  await writeFile(paths.tokenizerJson, `${JSON.stringify(trained.tokenizerJson, null, 2)}\n`);
  await writeFile(paths.tokenizerConfig, `${JSON.stringify(trained.tokenizerConfig, null, 2)}\n`);
  return paths;
}
