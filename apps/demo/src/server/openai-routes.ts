import { randomBytes } from 'node:crypto';
import type { FinishReason, GeneratePart, Usage } from '@slmkit/core';
import { randomSeed } from '@slmkit/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerMetrics } from './metrics.js';
import { HttpError, toHttpError } from './openai-error.js';
import {
  type GenerationParams,
  parseChatCompletionRequest,
  parseCompletionRequest,
  type RequestLimits,
} from './request-validation.js';
import type { ServedModel } from './served-model.js';
import { SseWriter } from './sse.js';

export interface RouteContext {
  models: ReadonlyMap<string, ServedModel>;
  /** Fires when the server shuts down: running generations stop. */
  shutdown: AbortSignal;
  limits: RequestLimits;
  metrics: ServerMetrics;
}

interface TokenLogprob {
  token: string;
  logprob: number;
}

function requestId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

function openAiFinishReason(reason: FinishReason): 'stop' | 'length' {
  return reason === 'stop' ? 'stop' : 'length';
}

function usageBody(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
  };
}

function findModel(ctx: RouteContext, id: string): ServedModel {
  const served = ctx.models.get(id);
  if (!served) {
    throw new HttpError(
      404,
      `The model '${id}' does not exist; this server has: ${[...ctx.models.keys()].join(', ')}`,
      {
        param: 'model',
        code: 'model_not_found',
      },
    );
  }
  return served;
}

function checkContext(served: ServedModel, promptTokens: number, param: string): void {
  if (promptTokens >= served.contextSize) {
    throw new HttpError(
      400,
      `This model's maximum context length is ${served.contextSize} tokens, but the prompt is ${promptTokens} tokens (leaving no room for an answer).`,
      { param, code: 'context_length_exceeded' },
    );
  }
}

/** An AbortSignal that fires when the client disconnects before the response is complete, or the server stops. */
function disconnectSignal(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return AbortSignal.any([controller.signal, shutdown]);
}

interface RunResult {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  logprobs: TokenLogprob[];
}

/**
 * Runs one generation on a served model, feeding text (and per-token log-probabilities) to `onDelta`, and records
 * its metrics. Leading whitespace is dropped when `trimStart` (chat answers begin right after the template's
 * `Assistant:`).
 */
async function run(
  ctx: RouteContext,
  served: ServedModel,
  prompt: number[],
  params: GenerationParams,
  stop: readonly string[],
  logprobs: boolean,
  signal: AbortSignal,
  trimStart: boolean,
  onDelta?: (text: string, logprobs: TokenLogprob[]) => void,
): Promise<RunResult> {
  const labels = { model: served.id };
  const started = performance.now();
  let text = '';
  let pendingLogprobs: TokenLogprob[] = [];
  const allLogprobs: TokenLogprob[] = [];
  let leading = trimStart;
  let firstToken = true;
  let finish: Extract<GeneratePart, { type: 'finish' }> | undefined;
  const seed = params.seed ?? (params.temperature > 0 ? randomSeed() : 0);
  for await (const part of served.generate({
    prompt,
    maxTokens: params.maxTokens,
    stop,
    logprobs,
    signal,
    temperature: params.temperature,
    topP: params.topP,
    topK: 0,
    minP: 0,
    presencePenalty: params.presencePenalty,
    frequencyPenalty: params.frequencyPenalty,
    seed,
    onStart: (waited) => ctx.metrics.queueWait.observe(labels, waited / 1000),
  })) {
    if (part.type === 'token') {
      if (firstToken) {
        firstToken = false;
        ctx.metrics.timeToFirstToken.observe(labels, (performance.now() - started) / 1000);
      }
      if (part.logprob !== undefined) {
        const entry = { token: part.text, logprob: part.logprob };
        pendingLogprobs.push(entry);
        allLogprobs.push(entry);
      }
    } else if (part.type === 'text-delta') {
      let delta = part.text;
      if (leading) {
        delta = delta.trimStart();
        if (delta.length === 0) continue;
        leading = false;
      }
      text += delta;
      onDelta?.(delta, pendingLogprobs);
      pendingLogprobs = [];
    } else {
      finish = part;
    }
  }
  if (!finish) throw new Error('generate ended without a finish part');
  if (pendingLogprobs.length > 0) onDelta?.('', pendingLogprobs);
  ctx.metrics.promptTokens.inc(labels, finish.usage.promptTokens);
  ctx.metrics.cachedPromptTokens.inc(labels, finish.usage.cachedPromptTokens);
  ctx.metrics.completionTokens.inc(labels, finish.usage.completionTokens);
  return { text, finishReason: finish.finishReason, usage: finish.usage, logprobs: allLogprobs };
}

/** Streams over SSE; an error after the stream began is sent as an `error` event before `[DONE]`. */
async function stream(
  ctx: RouteContext,
  served: ServedModel,
  reply: FastifyReply,
  signal: AbortSignal,
  body: (sse: SseWriter) => Promise<void>,
): Promise<void> {
  if (served.full) {
    // Refuse before the 200 and the event stream begin, so the client sees a proper 503.
    throw new HttpError(503, `the server is busy: ${served.waiting} requests are already waiting for this model`, {
      type: 'server_error',
      code: 'server_overloaded',
    });
  }
  reply.hijack();
  const sse = new SseWriter(reply.raw);
  try {
    await body(sse);
  } catch (error) {
    if (signal.aborted) {
      ctx.metrics.aborted.inc({ model: served.id });
    } else {
      sse.send(toHttpError(error).toBody());
    }
  }
  sse.end();
}

export function registerOpenAiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [...ctx.models.values()].map((m) => ({
      id: m.id,
      object: 'model',
      created: m.created,
      owned_by: 'slmkit',
      slmkit: {
        backend: m.model.info.backend,
        device: m.model.info.device,
        context_length: m.contextSize,
        concurrency: m.concurrency,
        parameters_hint: m.model.spec.name,
        files: m.files
          ? {
              model: `/models/${encodeURIComponent(m.id)}/model`,
              ...(m.files.tokenizer ? { tokenizer: `/models/${encodeURIComponent(m.id)}/tokenizer` } : {}),
            }
          : null,
      },
    })),
  }));

  app.get('/v1/models/:id', async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const m = findModel(ctx, request.params.id);
    return { id: m.id, object: 'model', created: m.created, owned_by: 'slmkit' };
  });

  app.post('/v1/chat/completions', async (request, reply) => {
    const params = parseChatCompletionRequest(request.body, ctx.limits);
    const served = findModel(ctx, params.model);
    const prompt = served.template.render(params.messages);
    checkContext(served, prompt.ids.length, 'messages');
    const stop = [...served.template.stop, ...params.stop];
    const signal = disconnectSignal(reply, ctx.shutdown);
    const id = requestId('chatcmpl');
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: served.id, system_fingerprint: 'slmkit' };
    const logprobsBody = (entries: TokenLogprob[]) =>
      params.logprobs
        ? {
            content: entries.map((e) => ({
              token: e.token,
              logprob: e.logprob,
              bytes: [...Buffer.from(e.token, 'utf8')],
              top_logprobs: [],
            })),
          }
        : null;
    if (params.stream) {
      await stream(ctx, served, reply, signal, async (sse) => {
        const chunk = (delta: object, finishReason: string | null, logprobs: object | null = null) => ({
          ...base,
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
        });
        sse.send(chunk({ role: 'assistant', content: '' }, null));
        const result = await run(ctx, served, prompt.ids, params, stop, params.logprobs, signal, true, (text, lps) =>
          sse.send(chunk({ content: text }, null, logprobsBody(lps))),
        );
        sse.send(chunk({}, openAiFinishReason(result.finishReason)));
        if (params.includeUsage)
          sse.send({ ...base, object: 'chat.completion.chunk', choices: [], usage: usageBody(result.usage) });
      });
      return reply;
    }
    const result = await run(ctx, served, prompt.ids, params, stop, params.logprobs, signal, true);
    return {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: result.text, refusal: null },
          logprobs: logprobsBody(result.logprobs),
          finish_reason: openAiFinishReason(result.finishReason),
        },
      ],
      usage: usageBody(result.usage),
    };
  });

  app.post('/v1/completions', async (request, reply) => {
    const params = parseCompletionRequest(request.body, ctx.limits);
    const served = findModel(ctx, params.model);
    const tokenizer = served.model.tokenizer;
    const prompt = typeof params.prompt === 'string' ? tokenizer.encode(params.prompt) : params.prompt;
    if (prompt.length === 0) throw new HttpError(400, "'prompt' is empty", { param: 'prompt', code: 'invalid_value' });
    const bad = prompt.find((t) => t < 0 || t >= served.model.spec.vocabSize);
    if (bad !== undefined) {
      throw new HttpError(400, `token id ${bad} is outside the vocabulary of ${served.model.spec.vocabSize}`, {
        param: 'prompt',
        code: 'invalid_value',
      });
    }
    checkContext(served, prompt.length, 'prompt');
    const echo = params.echo ? (typeof params.prompt === 'string' ? params.prompt : tokenizer.decode(prompt)) : '';
    const signal = disconnectSignal(reply, ctx.shutdown);
    const id = requestId('cmpl');
    const created = Math.floor(Date.now() / 1000);
    const base = { id, object: 'text_completion', created, model: served.id, system_fingerprint: 'slmkit' };
    const wantLogprobs = params.logprobs !== null;
    const logprobsBody = (entries: TokenLogprob[], offset: number) => {
      if (!wantLogprobs) return null;
      const textOffset: number[] = [];
      let at = offset;
      for (const e of entries) {
        textOffset.push(at);
        at += e.token.length;
      }
      return {
        tokens: entries.map((e) => e.token),
        token_logprobs: entries.map((e) => e.logprob),
        top_logprobs: null,
        text_offset: textOffset,
      };
    };
    if (params.stream) {
      await stream(ctx, served, reply, signal, async (sse) => {
        let offset = echo.length;
        if (echo) sse.send({ ...base, choices: [{ index: 0, text: echo, logprobs: null, finish_reason: null }] });
        const result = await run(ctx, served, prompt, params, params.stop, wantLogprobs, signal, false, (text, lps) => {
          sse.send({
            ...base,
            choices: [{ index: 0, text, logprobs: logprobsBody(lps, offset), finish_reason: null }],
          });
          offset += text.length;
        });
        sse.send({
          ...base,
          choices: [{ index: 0, text: '', logprobs: null, finish_reason: openAiFinishReason(result.finishReason) }],
        });
        if (params.includeUsage) sse.send({ ...base, choices: [], usage: usageBody(result.usage) });
      });
      return reply;
    }
    const result = await run(ctx, served, prompt, params, params.stop, wantLogprobs, signal, false);
    return {
      ...base,
      choices: [
        {
          index: 0,
          text: echo + result.text,
          logprobs: logprobsBody(result.logprobs, echo.length),
          finish_reason: openAiFinishReason(result.finishReason),
        },
      ],
      usage: usageBody(result.usage),
    };
  });
}
