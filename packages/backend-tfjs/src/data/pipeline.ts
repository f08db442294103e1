import { InvalidArgumentError, throwIfAborted } from '@slmkit/core';
import { type CleanOptions, cleanText } from './clean-text.js';
import { createDataStats, type DataStats } from './data-stats.js';
import { Deduplicator, type DedupOptions } from './deduplicator.js';
import { type FilterOptions, filterReason } from './quality-filter.js';
import type { SourceDocument } from './sources.js';
import { assignSplit, DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, type SplitName } from './split.js';

export interface ProcessOptions {
  clean?: CleanOptions;
  filter?: FilterOptions;
  dedup?: DedupOptions;
  /** Share of documents for validation, 0..1. Default: DEFAULT_VAL_FRACTION (0.05). */
  valFraction?: number;
  /** Seed of the split hash. Default: 0. */
  splitSeed?: number;
  /** Counts tokens (e.g. `(t) => tokenizer.encode(t, { addSpecialTokens: false }).length`); adds token stats. */
  countTokens?: (text: string) => number;
  signal?: AbortSignal;
  /** Called every `progressEvery` documents read with the running stats. */
  onProgress?: (stats: Readonly<DataStats>) => void;
  /** Default: 256. */
  progressEvery?: number;
}

export interface ProcessedDocument {
  text: string;
  split: SplitName;
  source: string;
}

export function checkProcessOptions(options: ProcessOptions): void {
  const val = options.valFraction ?? DEFAULT_VAL_FRACTION;
  if (!(val >= 0 && val <= 1)) {
    throw new InvalidArgumentError(`validation fraction must be in [0, 1], got ${val}`, {
      field: 'valFraction',
      value: val,
    });
  }
  const threshold = options.dedup?.nearThreshold;
  if (threshold !== undefined && !(threshold > 0 && threshold <= 1)) {
    throw new InvalidArgumentError(`near-duplicate threshold must be in (0, 1], got ${threshold}`, {
      field: 'nearThreshold',
      value: threshold,
    });
  }
  const rep = options.filter?.maxRepetition;
  if (rep !== undefined && !(rep >= 0 && rep <= 1)) {
    throw new InvalidArgumentError(`max repetition must be in [0, 1], got ${rep}`, {
      field: 'maxRepetition',
      value: rep,
    });
  }
  const { minChars, maxChars } = options.filter ?? {};
  if (minChars !== undefined && maxChars !== undefined && minChars > maxChars) {
    throw new InvalidArgumentError(`min chars ${minChars} is above max chars ${maxChars}`, {
      field: 'minChars',
      value: minChars,
    });
  }
}

/**
 * Cleans, filters, de-duplicates and splits a stream of documents, yielding the kept ones in input order and
 * updating `stats` as it goes. Holds only dedup hashes and signatures, never past texts.
 */
export async function* processDocuments(
  documents: AsyncIterable<SourceDocument> | Iterable<SourceDocument>,
  options: ProcessOptions = {},
  stats: DataStats = createDataStats(options.countTokens !== undefined),
): AsyncGenerator<ProcessedDocument> {
  checkProcessOptions(options);
  const dedup = new Deduplicator(options.dedup);
  const valFraction = options.valFraction ?? DEFAULT_VAL_FRACTION;
  const seed = options.splitSeed ?? DEFAULT_SPLIT_SEED;
  const every = options.progressEvery ?? 256;
  for await (const doc of documents) {
    stats.documentsRead++;
    stats.charactersRead += doc.text.length;
    if (stats.documentsRead % every === 0) {
      throwIfAborted(options.signal, 'Data preparation');
      options.onProgress?.(stats);
    }
    const text = cleanText(doc.text, options.clean);
    const reason = filterReason(text, options.filter);
    if (reason) {
      stats.filtered[reason]++;
      continue;
    }
    const duplicate = dedup.check(text);
    if (duplicate) {
      stats.duplicates[duplicate]++;
      continue;
    }
    const split = assignSplit(text, valFraction, seed);
    const tokens = options.countTokens?.(text);
    for (const s of [stats.kept, stats.splits[split]]) {
      s.documents++;
      s.characters += text.length;
      if (tokens !== undefined) s.tokens = (s.tokens ?? 0) + tokens;
    }
    yield { text, split, source: doc.source };
  }
  throwIfAborted(options.signal, 'Data preparation');
  options.onProgress?.(stats);
}
