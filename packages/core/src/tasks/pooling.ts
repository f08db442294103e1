import { InvalidArgumentError } from '../errors/index.js';
import type { EmbedOptions } from '../model/backend.js';

/** Pools per-token hidden states into one vector (mean or last token), L2-normalised unless asked not to. */
export function poolEmbedding(rows: readonly Float32Array[], options: EmbedOptions = {}): Float32Array {
  if (rows.length === 0) throw new InvalidArgumentError('cannot embed an empty token list', { field: 'tokens' });
  const dim = rows[0].length;
  const out = new Float32Array(dim);
  if ((options.pooling ?? 'mean') === 'last') {
    out.set(rows[rows.length - 1]);
  } else {
    for (const row of rows) for (let i = 0; i < dim; i++) out[i] += row[i];
    for (let i = 0; i < dim; i++) out[i] /= rows.length;
  }
  if (options.normalize ?? true) {
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += out[i] * out[i];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < dim; i++) out[i] /= norm;
  }
  return out;
}
