import { InvalidArgumentError } from '@slmkit/core';
import type { CliCommand } from '../cli-command.js';
import { booleanOption, stringOption } from '../options.js';
import { formatBytes, ProgressBar } from '../progress-bar.js';

export const command: CliCommand = {
  name: 'pull',
  summary: 'download a model (hf:<owner>/<repo>[/<file>] or an http(s) URL) into the cache; prints its local path',
  usage: 'slm pull <source> [--cache-dir <dir>] [--sha256 <hex>] [--force] [--json]',
  allowPositionals: true,
  options: {
    'cache-dir': {
      type: 'string',
      description: 'download cache (default $SLMKIT_CACHE_DIR or ~/.cache/slmkit)',
      valueName: '<dir>',
    },
    force: { type: 'boolean', description: 'download again even when the cache holds the files' },
    sha256: {
      type: 'string',
      description: 'expected sha256 of a single-file source (checked on download and cache hits)',
      valueName: '<hex>',
    },
    json: { type: 'boolean', description: 'print one JSON object: { path, kind, downloaded, cached }' },
  },
  async run(values, positionals, io) {
    const source = positionals[0];
    if (source === undefined || positionals.length > 1) {
      throw new InvalidArgumentError('expects exactly one source', { field: 'source' });
    }
    const { resolveModelSource } = await import('@slmkit/core/node');
    let bar: ProgressBar | undefined;
    let barFile = '';
    const result = await resolveModelSource(source, {
      cacheDir: stringOption(values, 'cache-dir'),
      force: booleanOption(values, 'force'),
      expectedSha256: stringOption(values, 'sha256'),
      signal: io.signal,
      onProgress: (p) => {
        if (p.file !== barFile || !bar) {
          bar?.done();
          barFile = p.file;
          const label = p.count > 1 ? `${p.file} (${p.index + 1}/${p.count})` : p.file;
          bar = new ProgressBar(io.stderr, label, { interactive: io.interactive });
        }
        const total = p.totalBytes === undefined ? '' : ` / ${formatBytes(p.totalBytes)}`;
        bar.update(p.fraction, `${formatBytes(p.receivedBytes)}${total}`);
      },
    });
    bar?.done();
    if (booleanOption(values, 'json')) io.stdout.write(`${JSON.stringify(result)}\n`);
    else io.stdout.write(`${result.path}\n`);
    return 0;
  },
};
