import { InvalidArgumentError, throwIfAborted } from '../errors/index.js';
import type { LoadedModel, LoadProgress } from '../model/backend.js';

export interface PerplexityOptions {
  /** Tokens per chunk (llama.cpp's `n_ctx`). Default: the model's loaded context size. */
  contextSize?: number;
  /**
   * Replace the first token of every chunk with BOS, as llama.cpp's `perplexity` does when the vocabulary adds
   * BOS. Default: the tokenizer's `addBos`.
   */
  bosPerChunk?: boolean;
  /** Evaluate at most this many chunks (llama.cpp's `--chunks`). Default: all. */
  maxChunks?: number;
  signal?: AbortSignal;
  /** Called after each chunk. */
  onProgress?: (progress: LoadProgress & { chunk: number; chunks: number; perplexity: number }) => void;
}

export interface PerplexityResult {
  /** exp(mean negative log-likelihood) over every scored token. */
  perplexity: number;
  /** Mean negative log-likelihood (natural log) per scored token. */
  meanNll: number;
  /** Tokens scored (the second half of each chunk, less its last token). */
  scoredTokens: number;
  chunks: number;
  contextSize: number;
  /** Running perplexity after each chunk (llama.cpp prints these as `[1]x,[2]y,...`). */
  perChunk: number[];
  /** Negative log-likelihood of each scored token, in order. */
  tokenNlls: number[];
  /** The scored tokens as ranges of indices into the input `tokens` (end exclusive), one per chunk. */
  scoredRanges: Array<{ start: number; end: number }>;
}

/** -log softmax(row)[target], in double precision. */
function negativeLogLikelihood(row: Float32Array, target: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum) - row[target];
}

/**
 * Perplexity by llama.cpp's method (`llama-perplexity`): split `tokens` into `floor(n / contextSize)` chunks of
 * `contextSize` tokens (the remainder is dropped), evaluate each chunk from an empty cache, and score only the
 * second half of each chunk (positions `contextSize/2 .. contextSize-2` predicting the next token), so every scored
 * token has at least half a context of history. perplexity = exp(mean NLL).
 */
export async function perplexity(
  model: LoadedModel,
  tokens: readonly number[],
  options: PerplexityOptions = {},
): Promise<PerplexityResult> {
  const contextSize = options.contextSize ?? model.contextSize;
  if (!Number.isInteger(contextSize) || contextSize < 4 || contextSize > model.contextSize) {
    throw new InvalidArgumentError(`contextSize must be an integer in 4..${model.contextSize}, got ${contextSize}`, {
      field: 'contextSize',
      value: contextSize,
    });
  }
  const chunks = Math.min(Math.floor(tokens.length / contextSize), options.maxChunks ?? Number.POSITIVE_INFINITY);
  if (chunks < 1) {
    throw new InvalidArgumentError(
      `perplexity needs at least ${contextSize} tokens (one chunk of contextSize), got ${tokens.length}; use a longer text or a smaller contextSize`,
      { field: 'tokens', value: tokens.length },
    );
  }
  const bos = model.tokenizer.special.bos;
  const bosPerChunk = (options.bosPerChunk ?? model.tokenizer.addBos) && bos !== undefined;
  const first = Math.floor(contextSize / 2);
  const sequence = await model.createSequence({ contextSize });
  let nll = 0;
  let scored = 0;
  const perChunk: number[] = [];
  const tokenNlls: number[] = [];
  const scoredRanges: Array<{ start: number; end: number }> = [];
  try {
    for (let c = 0; c < chunks; c++) {
      throwIfAborted(options.signal, 'Perplexity');
      const chunk = tokens.slice(c * contextSize, (c + 1) * contextSize);
      if (bosPerChunk && bos !== undefined) chunk[0] = bos;
      await sequence.reset();
      await sequence.forward(chunk.slice(0, first), { logits: 'none', signal: options.signal });
      const logits = await sequence.forward(chunk.slice(first), { logits: 'all', signal: options.signal });
      // Row r holds the prediction for chunk[first + r + 1]; the last row has no target inside the chunk.
      for (let r = 0; r + 1 < logits.rows; r++) {
        const value = negativeLogLikelihood(logits.row(r), chunk[first + r + 1]);
        tokenNlls.push(value);
        nll += value;
        scored++;
      }
      scoredRanges.push({ start: c * contextSize + first + 1, end: (c + 1) * contextSize });
      const running = Math.exp(nll / scored);
      perChunk.push(running);
      options.onProgress?.({
        fraction: (c + 1) / chunks,
        stage: 'perplexity',
        chunk: c + 1,
        chunks,
        perplexity: running,
      });
    }
  } finally {
    await sequence.dispose();
  }
  return {
    perplexity: Math.exp(nll / scored),
    meanNll: nll / scored,
    scoredTokens: scored,
    chunks,
    contextSize,
    perChunk,
    tokenNlls,
    scoredRanges,
  };
}
