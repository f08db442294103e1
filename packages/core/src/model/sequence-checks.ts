import { ContextOverflowError, InvalidArgumentError } from '../errors/index.js';

/**
 * The checks every `Sequence.forward` makes before touching its cache: ids inside the vocabulary, and room in the
 * context for them. Backends call this so bad input fails the same typed way everywhere.
 */
export function checkForwardInput(
  tokens: readonly number[],
  cachedLength: number,
  contextSize: number,
  vocabSize: number,
): void {
  if (tokens.length === 0) throw new InvalidArgumentError('forward needs at least one token', { field: 'tokens' });
  for (const id of tokens) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new InvalidArgumentError(`token id ${id} is outside the vocabulary of ${vocabSize}`, {
        field: 'tokens',
        value: id,
      });
    }
  }
  if (cachedLength + tokens.length > contextSize) {
    throw new ContextOverflowError(cachedLength + tokens.length, contextSize, { field: 'tokens' });
  }
}

/** Validates a `truncate(length)` argument against the cached length. */
export function checkTruncateLength(length: number, cachedLength: number): void {
  if (!Number.isInteger(length) || length < 0 || length > cachedLength) {
    throw new InvalidArgumentError(`truncate length must be an integer in 0..${cachedLength}, got ${length}`, {
      field: 'length',
      value: length,
    });
  }
}

/** Validates a requested context size against a model's limit. */
export function resolveContextSize(requested: number | undefined, modelLimit: number, backendLimit?: number): number {
  const limit = Math.min(modelLimit, backendLimit ?? Number.POSITIVE_INFINITY);
  if (requested === undefined) return limit;
  if (!Number.isInteger(requested) || requested <= 0) {
    throw new InvalidArgumentError(`contextSize must be a positive integer, got ${requested}`, {
      field: 'contextSize',
      value: requested,
    });
  }
  if (requested > limit) throw new ContextOverflowError(requested, limit, { field: 'contextSize' });
  return requested;
}
