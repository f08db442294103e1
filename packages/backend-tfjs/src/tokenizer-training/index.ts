export {
  type LearnedMerges,
  type LearnMergesOptions,
  learnBpeMerges,
  MAX_SYMBOLS,
  type WordTable,
} from './bpe-merges.js';
export { byteToUnicodeTable, GPT2_PRETOKENIZE_PATTERN, gpt2PreTokenize } from './byte-level.js';
export { type SavedTokenizerPaths, saveTrainedTokenizer } from './save-tokenizer.js';
export type { HfAddedToken, HfTokenizerJson, TrainedTokenizerKind } from './tokenizer-json.js';
export {
  DEFAULT_CHARACTER_COVERAGE,
  DEFAULT_MIN_PAIR_FREQUENCY,
  DEFAULT_MODEL_MAX_LENGTH,
  type TokenizerTrainingProgress,
  type TrainedTokenizer,
  type TrainTokenizerOptions,
  trainTokenizer,
} from './train-tokenizer.js';
