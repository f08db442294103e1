import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

/** A static file server on 127.0.0.1 for the browser test: URL prefix -> local folder; GET and HEAD only. */
export async function startStaticServer(
  mounts: Record<string, string>,
  index: string,
): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(index);
      return;
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const relative = normalize(decodeURIComponent(url.pathname.slice(prefix.length)));
      if (relative.startsWith('..')) break;
      const file = join(dir, relative);
      try {
        const info = await stat(file);
        if (!info.isFile()) break;
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-length': info.size,
        });
        if (request.method === 'HEAD') response.end();
        else createReadStream(file).pipe(response);
        return;
      } catch {
        break;
      }
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}
