export { type CleanOptions, cleanText, normalizeWhitespace, stripMarkup } from './clean-text.js';
export { readCorpusTexts } from './corpus-texts.js';
export { createDataStats, type DataStats, formatDataStats, type SplitStats } from './data-stats.js';
export {
  DATASET_FORMATS,
  type DatasetFormat,
  readDatasetDocuments,
  splitFileName,
  writeDataStats,
  writeDatasetSplits,
} from './dataset-files.js';
export { DEFAULT_NEAR_DUP_THRESHOLD, Deduplicator, type DedupOptions, type DuplicateKind } from './deduplicator.js';
export { expandGlob, globToRegExp } from './glob.js';
export { fmix32, fnv1a32, hash53 } from './hash.js';
export {
  chooseBands,
  DEFAULT_MINHASH_PERMUTATIONS,
  DEFAULT_SHINGLE_SIZE,
  estimateJaccard,
  LshIndex,
  MinHasher,
} from './minhash.js';
export { KNOWN_NPM_CORPORA, type NpmCorpus, npmCorpusFiles, parseNpmSpec } from './npm-corpora.js';
export { type ProcessedDocument, type ProcessOptions, processDocuments } from './pipeline.js';
export { type PrepareDatasetOptions, type PreparedDataset, prepareDataset } from './prepare-dataset.js';
export {
  DEFAULT_MAX_CHARS,
  DEFAULT_MAX_REPETITION,
  DEFAULT_MIN_CHARS,
  type FilterOptions,
  type FilterReason,
  filterReason,
  repetitionRatio,
} from './quality-filter.js';
export {
  DEFAULT_DOCUMENT_MODE,
  DEFAULT_JSONL_FIELD,
  DOCUMENT_MODES,
  type DocumentMode,
  type InputFile,
  type InputFormat,
  type ReadDocumentsOptions,
  readDocuments,
  resolveInputs,
  type SourceDocument,
  TEXT_EXTENSIONS,
} from './sources.js';
export { assignSplit, DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, type SplitName } from './split.js';
export { readTextLines } from './text-lines.js';
