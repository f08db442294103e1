import { InvalidArgumentError, type LoadedModel, type Tokenizer, throwIfAborted } from '@slmkit/core';

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
 * llama.cpp's `perplexity` method: the text is tokenized once (BOS not added), cut into chunks of `contextSize`
 * tokens; each chunk's first token is replaced by BOS when the tokenizer has one, the chunk is evaluated from an
 * empty cache with logits for every position, and only the second half of the chunk is scored (token j predicted
 * from the logits at j - 1, for j in [contextSize/2, contextSize)). Trailing tokens that do not fill a chunk are
 * ignored.
 */
export async function chunkedNll(
  model: LoadedModel,
  text: string,
  options: ChunkedPerplexityOptions,
): Promise<NllResult> {
  const n = options.contextSize;
  if (!Number.isInteger(n) || n < 4)
    throw new InvalidArgumentError(`must be an integer >= 4, got ${n}`, { field: 'contextSize', value: n });
  const tokenizer: Tokenizer = model.tokenizer;
  const tokens = tokenizer.encode(text, { addSpecialTokens: false });
  let chunks = Math.floor(tokens.length / n);
  if (options.maxChunks !== undefined) chunks = Math.min(chunks, options.maxChunks);
  if (chunks < 1) {
    throw new InvalidArgumentError(`the text has ${tokens.length} tokens, fewer than one chunk of ${n}`, {
      field: 'text',
    });
  }
  const bos = tokenizer.special.bos;
  const first = n >> 1;
  const nll: number[] = [];
  let scoredBytes = 0;
  const sequence = await model.createSequence({ contextSize: n });
  try {
    for (let c = 0; c < chunks; c++) {
      throwIfAborted(options.signal);
      const chunk = tokens.slice(c * n, (c + 1) * n);
      const input = bos === undefined ? chunk : [bos, ...chunk.slice(1)];
      await sequence.reset();
      const logits = await sequence.forward(input, { logits: 'all', signal: options.signal });
      for (let j = first; j < n; j++) nll.push(tokenNll(logits.row(j - 1), chunk[j]));
      scoredBytes += utf8.encode(tokenizer.decode(chunk.slice(first), { skipSpecialTokens: true })).length;
    }
  } finally {
    await sequence.dispose();
  }
  return { nll, scoredBytes, chunks, contextSize: n };
}
