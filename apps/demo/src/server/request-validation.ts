import type { ChatMessage } from '@slmkit/core';
import { HttpError, invalidRequest } from './openai-error.js';

/** Settings every generation request shares, already checked and mapped to core's names. */
export interface GenerationParams {
  model: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  stop: string[];
  seed?: number;
  presencePenalty: number;
  frequencyPenalty: number;
  stream: boolean;
  includeUsage: boolean;
}

export interface ChatCompletionParams extends GenerationParams {
  messages: ChatMessage[];
  logprobs: boolean;
}

export interface CompletionParams extends GenerationParams {
  prompt: string | number[];
  /** Legacy `logprobs`: null = off; a number = on (only the sampled token's log-probability is reported). */
  logprobs: number | null;
  echo: boolean;
}

export interface RequestLimits {
  /** Largest `max_tokens` accepted. */
  maxTokensLimit: number;
  /** `max_tokens` when the request gives none. */
  defaultMaxTokens: number;
}

type Json = Record<string, unknown>;

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function wrongType(param: string, want: string, got: unknown): HttpError {
  return new HttpError(400, `'${param}' must be ${want}, got ${typeName(got)}`, { param, code: 'invalid_type' });
}

function optionalNumber(body: Json, param: string, min: number, max: number, integer = false): number | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(param, integer ? 'an integer' : 'a number', v);
  if (integer && !Number.isInteger(v)) throw wrongType(param, 'an integer', v);
  if (v < min || v > max) throw invalidRequest(`'${param}' must be between ${min} and ${max}, got ${v}`, param);
  return v;
}

function optionalBoolean(body: Json, param: string): boolean | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(param, 'a boolean', v);
  return v;
}

function requireObject(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, `the request body must be a JSON object, got ${typeName(body)}`, { code: 'invalid_type' });
  }
  return body as Json;
}

function positiveTopP(topP: number | undefined): number {
  if (topP === 0)
    throw invalidRequest("'top_p' must be greater than 0 (use temperature 0 for greedy decoding)", 'top_p');
  return topP ?? 1;
}

function parseStop(body: Json): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v.length > 0 ? [v] : [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    throw wrongType('stop', 'a string or an array of strings', v);
  if (v.length > 4) throw invalidRequest(`'stop' takes at most 4 sequences, got ${v.length}`, 'stop');
  return (v as string[]).filter((s) => s.length > 0);
}

function parseCommon(raw: unknown, limits: RequestLimits, maxTokensParams: readonly string[]): GenerationParams {
  const body = requireObject(raw);
  if (typeof body.model !== 'string') {
    throw body.model === undefined
      ? new HttpError(400, "'model' is required", { param: 'model', code: 'missing_required_parameter' })
      : wrongType('model', 'a string', body.model);
  }
  let maxTokens: number | undefined;
  for (const param of maxTokensParams) {
    const v = body[param];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(param, 'an integer', v);
    if (v < 1) throw invalidRequest(`'${param}' must be at least 1, got ${v}`, param);
    if (v > limits.maxTokensLimit) {
      throw invalidRequest(
        `'${param}' is ${v}, above this server's limit of ${limits.maxTokensLimit}`,
        param,
        'max_tokens_exceeded',
      );
    }
    maxTokens = v;
  }
  const n = optionalNumber(body, 'n', 1, 128, true);
  if (n !== undefined && n !== 1) throw invalidRequest("only 'n': 1 is supported", 'n', 'unsupported');
  const streamOptions = body.stream_options;
  let includeUsage = false;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (typeof streamOptions !== 'object' || Array.isArray(streamOptions))
      throw wrongType('stream_options', 'an object', streamOptions);
    const inc = (streamOptions as Json).include_usage;
    if (inc !== undefined && typeof inc !== 'boolean')
      throw wrongType('stream_options.include_usage', 'a boolean', inc);
    includeUsage = inc === true;
  }
  return {
    model: body.model,
    maxTokens: maxTokens ?? limits.defaultMaxTokens,
    temperature: optionalNumber(body, 'temperature', 0, 2) ?? 1,
    topP: positiveTopP(optionalNumber(body, 'top_p', 0, 1)),
    stop: parseStop(body),
    seed: optionalNumber(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true),
    presencePenalty: optionalNumber(body, 'presence_penalty', -2, 2) ?? 0,
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', -2, 2) ?? 0,
    stream: optionalBoolean(body, 'stream') ?? false,
    includeUsage,
  };
}

function messageContent(content: unknown, index: number): string {
  const param = `messages[${index}].content`;
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        const p = part as Json;
        if (typeof p !== 'object' || p === null || p.type !== 'text' || typeof p.text !== 'string') {
          throw invalidRequest(
            `${param}[${j}] must be a text part ({"type": "text", "text": "..."}); this server takes text only`,
            `${param}[${j}]`,
          );
        }
        return p.text;
      })
      .join('');
  }
  throw wrongType(param, 'a string or an array of text parts', content);
}

/** Checks a `/v1/chat/completions` body. */
export function parseChatCompletionRequest(raw: unknown, limits: RequestLimits): ChatCompletionParams {
  const common = parseCommon(raw, limits, ['max_tokens', 'max_completion_tokens']);
  const body = raw as Json;
  if (!Array.isArray(body.messages)) {
    throw body.messages === undefined
      ? new HttpError(400, "'messages' is required", { param: 'messages', code: 'missing_required_parameter' })
      : wrongType('messages', 'an array', body.messages);
  }
  if (body.messages.length === 0) throw invalidRequest("'messages' must not be empty", 'messages');
  const messages = body.messages.map((m: unknown, i: number): ChatMessage => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw wrongType(`messages[${i}]`, 'an object', m);
    const role = (m as Json).role;
    if (role !== 'system' && role !== 'developer' && role !== 'user' && role !== 'assistant') {
      throw invalidRequest(
        `messages[${i}].role must be one of system, developer, user, assistant; got ${JSON.stringify(role)}`,
        `messages[${i}].role`,
      );
    }
    return { role: role === 'developer' ? 'system' : role, content: messageContent((m as Json).content, i) };
  });
  const logprobs = optionalBoolean(body, 'logprobs') ?? false;
  const top = optionalNumber(body, 'top_logprobs', 0, 20, true);
  if (top !== undefined && top > 0) {
    throw invalidRequest(
      "'top_logprobs' above 0 is not supported: only the sampled token's log-probability is reported",
      'top_logprobs',
      'unsupported',
    );
  }
  return { ...common, messages, logprobs };
}

/** Checks a `/v1/completions` body. */
export function parseCompletionRequest(raw: unknown, limits: RequestLimits): CompletionParams {
  const common = parseCommon(raw, limits, ['max_tokens']);
  const body = raw as Json;
  let prompt: string | number[];
  const p = body.prompt;
  if (typeof p === 'string') prompt = p;
  else if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') prompt = p[0];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number' && Number.isInteger(x)))
    prompt = p as number[];
  else if (p === undefined)
    throw new HttpError(400, "'prompt' is required", { param: 'prompt', code: 'missing_required_parameter' });
  else if (Array.isArray(p) && p.length > 1 && p.every((x) => typeof x === 'string')) {
    throw invalidRequest('batched prompts are not supported; send one prompt per request', 'prompt', 'unsupported');
  } else throw wrongType('prompt', 'a string or an array of token ids', p);
  const lp = body.logprobs;
  let logprobs: number | null = null;
  if (lp !== undefined && lp !== null) {
    if (typeof lp !== 'number' || !Number.isInteger(lp)) throw wrongType('logprobs', 'an integer', lp);
    if (lp < 0 || lp > 5) throw invalidRequest(`'logprobs' must be between 0 and 5, got ${lp}`, 'logprobs');
    logprobs = lp;
  }
  if (body.suffix !== undefined && body.suffix !== null)
    throw invalidRequest("'suffix' is not supported", 'suffix', 'unsupported');
  return {
    ...common,
    maxTokens: typeof body.max_tokens === 'number' ? common.maxTokens : Math.min(16, common.maxTokens),
    prompt,
    logprobs,
    echo: optionalBoolean(body, 'echo') ?? false,
  };
}
