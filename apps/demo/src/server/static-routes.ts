import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceModel } from './device-models.js';
import { HttpError } from './openai-error.js';

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

/** Where onnxruntime-web's `ort-wasm-*` files are on this machine (resolved from @slmkit/backend-onnx). */
export function ortWasmDir(): string | undefined {
  try {
    const backendPackage = createRequire(import.meta.url).resolve('@slmkit/backend-onnx/package.json');
    const entry = createRequire(backendPackage).resolve('onnxruntime-web');
    for (const dir of [dirname(entry), join(dirname(entry), '..', 'dist')]) {
      if (existsSync(join(dir, 'ort-wasm-simd-threaded.wasm'))) return dir;
    }
  } catch {
    // onnxruntime-web is not installed: the page cannot offer the onnxruntime-web runtime.
  }
  return undefined;
}

/** The files of onnxruntime-web the page may load: its WASM binaries and their ES module loaders, nothing else. */
const ORT_FILE = /^ort-wasm-simd-threaded(\.[a-z]+)?\.(wasm|mjs)$/;

/**
 * The web UI (a Vite build in `webRoot`) at `/`; the files of each model the page may run itself under
 * `/models/<id>/…` (listed in `/models/index.json`); onnxruntime-web's WASM files under `/ort/` (from its
 * node_modules folder, found at run time). Nothing else on disk is reachable.
 */
export function registerStaticRoutes(
  app: FastifyInstance,
  webRoot: string,
  deviceModels: ReadonlyMap<string, DeviceModel>,
  ortDir: string | undefined = ortWasmDir(),
): void {
  const root = resolve(webRoot);

  // The models this page may run itself: files only, so the on-device mode never needs the API.
  app.get('/models/index.json', async () => ({
    data: [...deviceModels.values()].map((m) => m.entry),
    ortWasm: ortDir !== undefined ? '/ort/' : null,
  }));

  app.get('/models/:id/*', async (request: FastifyRequest<{ Params: { id: string; '*': string } }>, reply) => {
    const model = deviceModels.get(request.params.id);
    const file = request.params['*'];
    const path = model?.paths.get(file);
    if (!model || !path) {
      throw new HttpError(404, `no file '${file}' for model '${request.params.id}'`, { code: 'not_found' });
    }
    const type = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return sendFile(reply, path, type, 'no-cache');
  });

  app.get('/ort/:file', async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const file = request.params.file;
    if (!ortDir || !ORT_FILE.test(file) || !existsSync(join(ortDir, file))) {
      throw new HttpError(404, `not found: /ort/${file}`, { code: 'not_found' });
    }
    return sendFile(reply, join(ortDir, file), CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'no-cache');
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
