import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './openai-error.js';
import type { ServedModel } from './served-model.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

async function sendFile(reply: FastifyReply, path: string, contentType: string, cache: string): Promise<FastifyReply> {
  const info = await stat(path);
  return reply
    .header('content-type', contentType)
    .header('content-length', info.size)
    .header('cache-control', cache)
    .send(createReadStream(path));
}

/**
 * The web UI (a Vite build in `webRoot`) at `/`, and each served model's files at `/models/<id>/model` and
 * `/models/<id>/tokenizer` so the page can run the model itself. Nothing else on disk is reachable.
 */
export function registerStaticRoutes(
  app: FastifyInstance,
  webRoot: string,
  models: ReadonlyMap<string, ServedModel>,
): void {
  const root = resolve(webRoot);

  // The models this page may run itself: files only, so the on-device mode never needs the API.
  app.get('/models/index.json', async () => ({
    data: [...models.values()]
      .filter((m) => m.files?.tokenizer !== undefined)
      .map((m) => ({
        id: m.id,
        format: 'llama2c',
        files: {
          model: `/models/${encodeURIComponent(m.id)}/model`,
          tokenizer: `/models/${encodeURIComponent(m.id)}/tokenizer`,
        },
      })),
  }));

  app.get('/models/:id/:file', async (request: FastifyRequest<{ Params: { id: string; file: string } }>, reply) => {
    const served = models.get(request.params.id);
    const file = request.params.file;
    const path = file === 'model' ? served?.files?.model : file === 'tokenizer' ? served?.files?.tokenizer : undefined;
    if (!served || !path) {
      throw new HttpError(404, `no file '${file}' for model '${request.params.id}'`, { code: 'not_found' });
    }
    return sendFile(reply, path, 'application/octet-stream', 'no-cache');
  });

  app.get('/*', async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    let wanted: string;
    try {
      wanted = decodeURIComponent(request.params['*'] || 'index.html');
    } catch {
      throw new HttpError(400, 'malformed URL encoding in the path', { code: 'invalid_value' });
    }
    const path = normalize(join(root, wanted));
    if (path !== root && !path.startsWith(root + sep)) throw new HttpError(404, 'not found', { code: 'not_found' });
    let target = path;
    try {
      if ((await stat(target)).isDirectory()) target = join(target, 'index.html');
      await stat(target);
    } catch {
      if (wanted === 'index.html') {
        throw new HttpError(
          404,
          `the web UI is not built: run \`pnpm --filter @slmkit/demo build:web\` (looked in ${root})`,
          {
            code: 'not_found',
          },
        );
      }
      throw new HttpError(404, `not found: /${wanted}`, { code: 'not_found' });
    }
    const type = CONTENT_TYPES[extname(target)] ?? 'application/octet-stream';
    const cache = target.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return sendFile(reply, target, type, cache);
  });
}
