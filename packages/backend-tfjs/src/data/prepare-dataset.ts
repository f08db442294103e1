import { join } from 'node:path';
import { createDataStats, type DataStats } from './data-stats.js';
import { type DatasetFormat, writeDataStats, writeDatasetSplits } from './dataset-files.js';
import { checkProcessOptions, type ProcessOptions, processDocuments } from './pipeline.js';
import { type InputFile, type ReadDocumentsOptions, readDocuments, resolveInputs } from './sources.js';
import type { SplitName } from './split.js';

export interface PrepareDatasetOptions
  extends ProcessOptions,
    Omit<ReadDocumentsOptions, 'signal' | 'onBytes' | 'onFile'> {
  /** Files, folders, globs, `npm:<package>[:<glob>]`. */
  inputs: readonly string[];
  /** The inputs already resolved (see resolveInputs), to skip resolving them again. */
  files?: readonly InputFile[];
  /** Output folder (created). */
  outDir: string;
  /** Default: `txt`. */
  format?: DatasetFormat;
}

export interface PreparedDataset {
  stats: DataStats;
  files: Record<SplitName, string> & { stats: string };
}

/**
 * `slm data` as a function: reads the inputs, cleans, filters, de-duplicates, splits, writes train/val files and
 * stats.json into `outDir`. Streams throughout.
 */
export async function prepareDataset(options: PrepareDatasetOptions): Promise<PreparedDataset> {
  checkProcessOptions(options);
  const stats = createDataStats(options.countTokens !== undefined);
  const files = options.files ?? (await resolveInputs(options.inputs, options.cwd));
  const documents = readDocuments(files, {
    ...options,
    onFile: () => {
      stats.files++;
    },
    onBytes: (delta) => {
      stats.bytesRead += delta;
    },
    onInvalidRecord: (file, line, reason) => {
      stats.invalidRecords++;
      options.onInvalidRecord?.(file, line, reason);
    },
  });
  const paths = await writeDatasetSplits(processDocuments(documents, options, stats), options.outDir, options.format);
  const statsPath = join(options.outDir, 'stats.json');
  await writeDataStats({ ...stats, inputs: [...options.inputs], format: options.format ?? 'txt' }, statsPath);
  return { stats, files: { ...paths, stats: statsPath } };
}
