const SLM_ERROR_MARKER = Symbol.for('slmkit.error');

/** Machine-readable error codes; one per error class. */
export type SlmErrorCode =
  | 'MODEL_FORMAT'
  | 'UNSUPPORTED_FEATURE'
  | 'CONTEXT_OVERFLOW'
  | 'ABORTED'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'TOKENIZER'
  | 'BACKEND'
  | 'DOWNLOAD';

export interface SlmErrorDetails {
  /** The file (or URL) at fault, when there is one. */
  file?: string;
  /** The field, tensor or option at fault. */
  field?: string;
  /** Byte offset in `file` where the problem was found. */
  offset?: number;
  /** The offending value, for messages and programmatic checks. */
  value?: unknown;
  cause?: unknown;
}

/**
 * Base class of every error slmkit throws on purpose. `SlmError.isInstance` works across duplicated installs
 * (it checks a registered symbol, not the prototype chain).
 */
export class SlmError extends Error {
  readonly [SLM_ERROR_MARKER] = true;
  readonly code: SlmErrorCode;
  readonly file?: string;
  readonly field?: string;
  readonly offset?: number;
  readonly value?: unknown;

  constructor(code: SlmErrorCode, message: string, details: SlmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SlmError';
    this.code = code;
    this.file = details.file;
    this.field = details.field;
    this.offset = details.offset;
    this.value = details.value;
  }

  static isInstance(error: unknown): error is SlmError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[SLM_ERROR_MARKER] === true;
  }
}

function describeLocation(details: SlmErrorDetails): string {
  const parts: string[] = [];
  if (details.file !== undefined) parts.push(details.file);
  if (details.offset !== undefined) parts.push(`offset ${details.offset}`);
  if (details.field !== undefined) parts.push(`field "${details.field}"`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}

/** A model, tokenizer or data file is malformed, truncated or inconsistent. */
export class ModelFormatError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('MODEL_FORMAT', `${describeLocation(details)}${message}`, details);
    this.name = 'ModelFormatError';
  }
  static override isInstance(error: unknown): error is ModelFormatError {
    return SlmError.isInstance(error) && error.code === 'MODEL_FORMAT';
  }
}

/** The input is valid, but this backend, format or build does not support it. */
export class UnsupportedFeatureError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('UNSUPPORTED_FEATURE', `${describeLocation(details)}${message}`, details);
    this.name = 'UnsupportedFeatureError';
  }
}

/** More tokens than the context window holds. */
export class ContextOverflowError extends SlmError {
  readonly requested: number;
  readonly contextSize: number;
  constructor(requested: number, contextSize: number, details: SlmErrorDetails = {}) {
    super(
      'CONTEXT_OVERFLOW',
      `${describeLocation(details)}${requested} tokens do not fit in a context of ${contextSize} tokens`,
      details,
    );
    this.name = 'ContextOverflowError';
    this.requested = requested;
    this.contextSize = contextSize;
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortError extends SlmError {
  constructor(message = 'The operation was aborted', details: SlmErrorDetails = {}) {
    super('ABORTED', message, details);
    this.name = 'AbortError';
  }
}

/** A caller passed a bad option or argument. */
export class InvalidArgumentError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('INVALID_ARGUMENT', `${describeLocation(details)}${message}`, details);
    this.name = 'InvalidArgumentError';
  }
}

/** A file, folder, model or tensor that was asked for does not exist. */
export class NotFoundError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('NOT_FOUND', `${describeLocation(details)}${message}`, details);
    this.name = 'NotFoundError';
  }
}

/** Text or ids that a tokenizer cannot process. */
export class TokenizerError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('TOKENIZER', `${describeLocation(details)}${message}`, details);
    this.name = 'TokenizerError';
  }
}

/** A runtime (llama.cpp, onnxruntime, tfjs) failed underneath a backend. */
export class BackendError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('BACKEND', `${describeLocation(details)}${message}`, details);
    this.name = 'BackendError';
  }
}

/** A download failed, or its size or checksum did not match. */
export class DownloadError extends SlmError {
  constructor(message: string, details: SlmErrorDetails = {}) {
    super('DOWNLOAD', `${describeLocation(details)}${message}`, details);
    this.name = 'DownloadError';
  }
}

/** Throws AbortError when the signal has fired. Call between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'The operation'): void {
  if (signal?.aborted) throw new AbortError(`${what} was aborted`, { cause: signal.reason });
}
