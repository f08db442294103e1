import type { Cell } from '../suite/suite-types.js';

/** Backends that convert a model on first load (GGUF for llama.cpp and node-llama-cpp, an ONNX export for onnx). */
const CONVERTING = new Set(['llamacpp', 'onnx', 'node-llama-cpp']);

function backendName(cell: Cell): string | undefined {
  const b = cell.backend;
  if (b.kind === 'node-llama-cpp') return 'node-llama-cpp';
  if (b.kind === undefined || b.kind === 'backend') return b.backend ?? b.id;
  return undefined;
}

/**
 * The cells to run once in a preparation child before they are measured: the first cell of each (model, backend)
 * pair whose first load generates the model (random weights are written to a cached GGUF file) or converts it
 * (llama.cpp / node-llama-cpp from a non-GGUF input, onnx from a non-ONNX input). The measuring child then loads
 * from the cache, so one-time generation and conversion stay out of its `load_ms` and `peak_rss_bytes`.
 */
export function cellsToPrepare(cells: readonly Cell[]): Set<number> {
  const generated = new Set<string>();
  const converted = new Set<string>();
  const out = new Set<number>();
  for (const cell of cells) {
    const name = backendName(cell);
    if (name === undefined) continue;
    const m = cell.model;
    const generates = m.random !== undefined && !generated.has(m.id);
    // Generated models are GGUF files, which llama.cpp and node-llama-cpp read as they are.
    const converts =
      name === 'onnx'
        ? !m.onnx
        : CONVERTING.has(name) && m.random === undefined && !m.gguf && !m.path?.endsWith('.gguf');
    // onnx columns that share an export cache (e.g. onnx and an int8 onnx column) are prepared once.
    const key = `${m.id}\u0000${name}`;
    if (!generates && !(converts && !converted.has(key))) continue;
    if (m.random !== undefined) generated.add(m.id);
    if (converts) converted.add(key);
    out.add(cell.index);
  }
  return out;
}
