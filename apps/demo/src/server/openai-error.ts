import { SlmError } from '@slmkit/core';

/** The error object OpenAI's API returns (and its clients parse): `{ error: { message, type, param, code } }`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error that becomes an OpenAI-style error response with `status`. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;

  constructor(status: number, message: string, options: { type?: string; param?: string; code?: string } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.type = options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalidRequest(message: string, param?: string, code = 'invalid_value'): HttpError {
  return new HttpError(400, message, { param, code });
}

/** Maps anything thrown while serving to an HttpError (slmkit errors keep their meaning; the rest are 500s). */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.code === 'string' && fastifyError.code.startsWith('FST_')) {
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new HttpError(413, `request body is larger than the server's limit: ${fastifyError.message}`, {
          code: 'request_too_large',
        });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new HttpError(415, 'send the request body as application/json', { code: 'unsupported_media_type' });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return invalidRequest('the request body is empty; send a JSON object', undefined, 'invalid_json');
      default:
        if (fastifyError.statusCode === 400) {
          return invalidRequest(`could not parse the JSON body: ${fastifyError.message}`, undefined, 'invalid_json');
        }
    }
  }
  if (error instanceof SyntaxError) {
    return invalidRequest(`could not parse the JSON body: ${error.message}`, undefined, 'invalid_json');
  }
  if (SlmError.isInstance(error)) {
    const param = error.field;
    switch (error.code) {
      case 'CONTEXT_OVERFLOW':
        return new HttpError(400, error.message, { param: 'messages', code: 'context_length_exceeded' });
      case 'INVALID_ARGUMENT':
        return new HttpError(400, error.message, { param, code: 'invalid_value' });
      case 'UNSUPPORTED_FEATURE':
        return new HttpError(400, error.message, { param, code: 'unsupported' });
      case 'NOT_FOUND':
        return new HttpError(404, error.message, { param, code: 'not_found' });
      case 'ABORTED':
        return new HttpError(499, error.message, { code: 'aborted' });
      default:
        return new HttpError(500, error.message, { code: error.code.toLowerCase() });
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new HttpError(500, `internal error: ${message}`, { code: 'internal_error' });
}
