import { parseTokenizerJson, type Tokenizer, tokenizerToJson } from '@slmkit/core';

/** The HF files that carry a tokenizer: tokenizer.json and tokenizer_config.json, as JSON values. */
export interface HfTokenizerFiles {
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
}

/** Serialises a tokenizer as HF tokenizer.json + tokenizer_config.json (core's `tokenizerToJson`). */
export function hfTokenizerFiles(tokenizer: Tokenizer, contextLength: number): HfTokenizerFiles {
  const files = tokenizerToJson(tokenizer);
  return {
    tokenizerJson: files.tokenizerJson,
    tokenizerConfig: { model_max_length: contextLength, ...files.tokenizerConfig },
  };
}

/** Parses HF tokenizer.json (+ tokenizer_config.json) through core's reader. */
export function tokenizerFromHfJson(json: unknown, file: string, config?: unknown): Tokenizer {
  return parseTokenizerJson({ tokenizerJson: json, tokenizerConfig: config }, file);
}
