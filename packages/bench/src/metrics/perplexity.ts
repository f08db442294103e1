import { InvalidArgumentError, type LoadedModel, perplexity, type Tokenizer } from '@slmkit/core';

/** Negative log-likelihoods (natural log) of the scored tokens of one text, with what they cover. */
export interface NllResult {
  /** One NLL per scored token, in order. */
  nll: number[];
  /** UTF-8 bytes of the text covered by the scored tokens. */
  scoredBytes: number;
  /** Chunks of `contextSize` tokens evaluated. */
  chunks: number;
  contextSize: number;
}

/** exp(mean NLL): perplexity per token. */
export function perplexityFromNll(nll: readonly number[]): number {
  if (nll.length === 0) throw new InvalidArgumentError('no scored tokens', { field: 'nll' });
  let sum = 0;
  for (const v of nll) {
    if (!Number.isFinite(v) || v < 0)
      throw new InvalidArgumentError(`NLL must be finite and >= 0, got ${v}`, { field: 'nll', value: v });
    sum += v;
  }
  return Math.exp(sum / nll.length);
}

/** Total NLL in bits divided by the UTF-8 bytes it covers: comparable across tokenizers. */
export function bitsPerByte(nll: readonly number[], bytes: number): number {
  if (!(bytes > 0)) throw new InvalidArgumentError(`must be > 0, got ${bytes}`, { field: 'bytes', value: bytes });
  let sum = 0;
  for (const v of nll) sum += v;
  return sum / Math.LN2 / bytes;
}

/** -log softmax(row)[target], computed stably. */
export function tokenNll(row: Float32Array, target: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.log(sum) + max - row[target];
}

export interface ChunkedPerplexityOptions {
  /** Tokens per chunk (llama.cpp's n_ctx). */
  contextSize: number;
  /** Most chunks to evaluate (llama.cpp's --chunks); default all. */
  maxChunks?: number;
  signal?: AbortSignal;
}

const utf8 = new TextEncoder();

/**
 * llama.cpp's `perplexity` method (core's `perplexity`): the text is tokenized once without special tokens, cut
 * into chunks of `contextSize` tokens (BOS replaces each chunk's first token when the tokenizer adds one), and the
 * second half of each chunk is scored. Returns the per-token NLLs and the UTF-8 bytes they cover, for bits-per-byte.
 */
export async function chunkedNll(
  model: LoadedModel,
  text: string,
  options: ChunkedPerplexityOptions,
): Promise<NllResult> {
  const n = options.contextSize;
  const tokenizer: Tokenizer = model.tokenizer;
  const tokens = tokenizer.encode(text, { addSpecialTokens: false });
  if (tokens.length < n) {
    throw new InvalidArgumentError(`the text has ${tokens.length} tokens, fewer than one chunk of ${n}`, {
      field: 'text',
    });
  }
  const result = await perplexity(model, tokens, {
    contextSize: n,
    maxChunks: options.maxChunks,
    signal: options.signal,
  });
  let scoredBytes = 0;
  for (const { start, end } of result.scoredRanges) {
    scoredBytes += utf8.encode(tokenizer.decode(tokens.slice(start, end), { skipSpecialTokens: true })).length;
  }
  return { nll: result.tokenNlls, scoredBytes, chunks: result.chunks, contextSize: n };
}
