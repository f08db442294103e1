import { timingSafeEqual } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { type DeviceModel, type DeviceModelOptions, describeDeviceModel, isFolder } from './device-models.js';
import { ServerMetrics } from './metrics.js';
import { HttpError, toHttpError } from './openai-error.js';
import { registerOpenAiRoutes } from './openai-routes.js';
import { ServedModel, type ServedModelOptions } from './served-model.js';
import { registerStaticRoutes } from './static-routes.js';

/** Default bind address: only this machine can connect. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
/** Largest request body accepted (bytes). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Largest `max_tokens` accepted. */
export const DEFAULT_MAX_TOKENS_LIMIT = 4096;
/** `max_tokens` of a chat request that gives none. */
export const DEFAULT_CHAT_MAX_TOKENS = 256;

export interface DemoServerOptions {
  models: ServedModelOptions[];
  /** Default {@link DEFAULT_HOST}. */
  host?: string;
  /** Default {@link DEFAULT_PORT}; 0 picks a free port. */
  port?: number;
  /** When set, `/v1/*` and `/metrics` require `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Default {@link DEFAULT_BODY_LIMIT}. */
  bodyLimit?: number;
  /** Default {@link DEFAULT_MAX_TOKENS_LIMIT}. */
  maxTokensLimit?: number;
  /** Default {@link DEFAULT_CHAT_MAX_TOKENS}. */
  defaultMaxTokens?: number;
  /** Folder of the built web UI. Default: this package's `dist/web`. */
  webRoot?: string;
  /** Log requests to stderr (pino). Default false. */
  logger?: boolean;
  /**
   * Models offered to the web UI's on-device mode only (not to the API): llama2.c checkpoints or HF ONNX folders.
   * Served models with `files` are offered too.
   */
  deviceModels?: DeviceModelOptions[];
  /**
   * Send `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`, so the page is
   * cross-origin isolated: onnxruntime-web may then run multi-threaded (SharedArrayBuffer) and the page can measure
   * its memory, workers included. Default true.
   */
  crossOriginIsolation?: boolean;
}

export interface DemoServer {
  readonly app: FastifyInstance;
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly metrics: ServerMetrics;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:8080`. */
  listen(): Promise<string>;
  /** Stops accepting connections, ends running generations and frees the models' sequences. */
  close(): Promise<void>;
}

/** The built web UI beside this module: `apps/demo/dist/web` from both `src/server` and `dist/server`. */
export function defaultWebRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'web');
}

function keyMatches(header: string | undefined, key: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The OpenAI-compatible server behind `slm serve`, with `/health`, `/metrics` and the demo web UI at `/`.
 * Routes: `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions` (each streaming over SSE with
 * `stream: true`). Errors are OpenAI error objects: 400 for malformed JSON, wrong types, values out of range,
 * `max_tokens` above the limit and prompts longer than the context; 401 for a missing or wrong API key; 404 for an
 * unknown model or route; 413 for a body over the limit; 503 when a model's queue is full.
 */
export async function createDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  if (options.models.length === 0) throw new RangeError('createDemoServer needs at least one model');
  const metrics = new ServerMetrics();
  const models = new Map<string, ServedModel>();
  const ids = options.models.map((m) => m.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new RangeError(`two models share the id '${duplicate}'`);
  const deviceModels = new Map<string, DeviceModel>();
  for (const m of options.models) {
    if (m.files && (m.files.tokenizer !== undefined || (await isFolder(m.files.model)))) {
      deviceModels.set(
        m.id,
        await describeDeviceModel({ id: m.id, path: m.files.model, tokenizer: m.files.tokenizer }),
      );
    }
  }
  for (const d of options.deviceModels ?? []) {
    if (deviceModels.has(d.id)) throw new RangeError(`two on-device models share the id '${d.id}'`);
    deviceModels.set(d.id, await describeDeviceModel(d));
  }
  for (const m of options.models) models.set(m.id, await ServedModel.create(m));
  metrics.addGauge('slm_active_generations', 'Generations running now, by model.', () =>
    [...models.values()].map((m) => [{ model: m.id }, m.active]),
  );
  metrics.addGauge('slm_queued_requests', 'Requests waiting for a free slot, by model.', () =>
    [...models.values()].map((m) => [{ model: m.id }, m.waiting]),
  );

  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: options.logger ?? false,
    // On close, drop every socket: generations are aborted first, and a keep-alive client (Fastify keeps idle
    // sockets for 72 s) must not hold the shutdown.
    forceCloseConnections: true,
    // Errors the router raises before any route runs (a malformed URL) get the same OpenAI-style body.
    frameworkErrors: (error, _request, reply) => {
      const http = new HttpError(400, error.message, { code: 'invalid_value' });
      (reply as FastifyReply).status(http.status).send(http.toBody());
    },
  });
  const apiKey = options.apiKey;

  const isolate = options.crossOriginIsolation ?? true;
  app.addHook('onRequest', async (request, reply) => {
    const started = performance.now();
    if (isolate) {
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-embedder-policy', 'require-corp');
    }
    reply.raw.once('close', () => {
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { method: request.method, route, status: String(reply.raw.statusCode) };
      metrics.requests.inc(labels);
      metrics.requestDuration.observe({ route }, (performance.now() - started) / 1000);
    });
    if (apiKey !== undefined && (request.url.startsWith('/v1/') || request.url === '/metrics')) {
      if (!keyMatches(request.headers.authorization, apiKey)) {
        throw new HttpError(401, 'Incorrect or missing API key: send it as "Authorization: Bearer <key>".', {
          code: 'invalid_api_key',
        });
      }
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    const http = toHttpError(error);
    if (reply.raw.headersSent) return;
    reply.status(http.status).send(http.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(new HttpError(404, `no route ${request.method} ${request.url}`, { code: 'not_found' }).toBody());
  });

  app.get('/health', async () => {
    const memory = process.memoryUsage();
    return {
      status: 'ok',
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
      models: [...models.values()].map((m) => ({
        id: m.id,
        active: m.active,
        waiting: m.waiting,
        concurrency: m.concurrency,
      })),
    };
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(metrics.render()),
  );
  const shutdown = new AbortController();
  registerOpenAiRoutes(app, {
    models,
    shutdown: shutdown.signal,
    metrics,
    limits: {
      maxTokensLimit: options.maxTokensLimit ?? DEFAULT_MAX_TOKENS_LIMIT,
      defaultMaxTokens: Math.min(
        options.defaultMaxTokens ?? DEFAULT_CHAT_MAX_TOKENS,
        options.maxTokensLimit ?? DEFAULT_MAX_TOKENS_LIMIT,
      ),
    },
  });
  registerStaticRoutes(app, options.webRoot ?? defaultWebRoot(), deviceModels);

  return {
    app,
    models,
    metrics,
    async listen() {
      return app.listen({ host: options.host ?? DEFAULT_HOST, port: options.port ?? DEFAULT_PORT });
    },
    async close() {
      shutdown.abort(new Error('the server is stopping'));
      // Let the aborted generations end their responses, so their keep-alive sockets are idle when closed.
      const deadline = performance.now() + 2000;
      while ([...models.values()].some((m) => m.active > 0) && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setImmediate(resolve));
      await app.close();
      await Promise.all([...models.values()].map((m) => m.dispose()));
    },
  };
}
