import { ModelFormatError } from '@slmkit/core';
import type { OrtRuntime, RandomAccessFile } from './runtime/runtime-seam.js';

/**
 * Where a KV-slot graph's embedding table lives (the sidecar `<graph>.embeddings.json` the exporter writes when the
 * graph takes `inputs_embeds`): a tensor inside another graph's external data file. `fp32`: [rows, dim] float32 at
 * `offset`. `q8`: [rows, blocks, blockSize] uint8 at `offset` (value = (q - 128) * scale) and [rows, blocks] float32
 * scales at `scalesOffset`, the layout `MatMulNBits`-style blockwise quantisation uses.
 */
export interface EmbeddingTableLayout {
  /** Data file, relative to the graph's folder. */
  file: string;
  format: 'fp32' | 'q8';
  rows: number;
  dim: number;
  offset: number;
  blocks?: number;
  blockSize?: number;
  scalesOffset?: number;
}

/** The sidecar file of a graph. */
export function embeddingLayoutFile(graphFile: string): string {
  return graphFile.replace(/\.onnx$/, '.embeddings.json');
}

function checkLayout(value: unknown, file: string): EmbeddingTableLayout {
  const v = value as Partial<EmbeddingTableLayout> | null;
  const count = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  const ok =
    v !== null &&
    typeof v === 'object' &&
    typeof v.file === 'string' &&
    !v.file.includes('/') &&
    (v.format === 'fp32' || v.format === 'q8') &&
    count(v.rows) &&
    count(v.dim) &&
    count(v.offset) &&
    (v.format === 'fp32' || (count(v.blocks) && count(v.blockSize) && count(v.scalesOffset)));
  if (!ok) throw new ModelFormatError('is not a valid embedding table description', { file, value });
  return v as EmbeddingTableLayout;
}

/**
 * Reads embedding rows from the table's file for a graph that takes `inputs_embeds`: only the rows asked for are
 * read, so the table is never memory-mapped whole (a Gather inside onnxruntime faults in page-cache folios until
 * most of it is resident). Rows equal what the graph's own Gather (and dequantisation) would give, bit for bit.
 */
export class EmbeddingRows {
  readonly dim: number;
  readonly #layout: EmbeddingTableLayout;
  readonly #file: RandomAccessFile;
  readonly #path: string;
  #q8?: { q: Uint8Array; scales: Float32Array; scaleBytes: Uint8Array };

  private constructor(layout: EmbeddingTableLayout, file: RandomAccessFile, path: string) {
    this.dim = layout.dim;
    this.#layout = layout;
    this.#file = file;
    this.#path = path;
  }

  /** Opens the table a graph's sidecar describes; typed errors name the sidecar or the data file. */
  static async open(runtime: OrtRuntime, graphFile: string): Promise<EmbeddingRows> {
    const sidecar = embeddingLayoutFile(graphFile);
    if (!runtime.openFile) {
      throw new ModelFormatError('this platform cannot read embedding rows from a file', { file: sidecar });
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(await runtime.readFile(sidecar)));
    } catch (error) {
      throw new ModelFormatError(
        `the graph takes inputs_embeds but its embedding table description is unreadable: ${(error as Error).message}`,
        {
          file: sidecar,
          cause: error,
        },
      );
    }
    const layout = checkLayout(json, sidecar);
    const dataPath = `${graphFile.slice(0, graphFile.lastIndexOf('/') + 1)}${layout.file}`;
    const file = await runtime.openFile(dataPath);
    const rowBytes = layout.format === 'fp32' ? layout.dim * 4 : (layout.blocks ?? 0) * (layout.blockSize ?? 0);
    const end =
      layout.format === 'fp32'
        ? layout.offset + layout.rows * rowBytes
        : Math.max(
            layout.offset + layout.rows * rowBytes,
            (layout.scalesOffset ?? 0) + layout.rows * (layout.blocks ?? 0) * 4,
          );
    if (file.size < end) {
      file.close();
      throw new ModelFormatError(`holds ${file.size} bytes; the embedding table needs ${end}`, { file: dataPath });
    }
    return new EmbeddingRows(layout, file, dataPath);
  }

  /** The rows of `ids`, [ids.length, dim], in a new array. */
  rows(ids: readonly number[]): Float32Array {
    const out = new Float32Array(ids.length * this.dim);
    this.gather(ids, out);
    return out;
  }

  /** Writes the rows of `ids` into `out` ([ids.length, dim]). */
  gather(ids: readonly number[], out: Float32Array): void {
    const { dim, format, offset, rows } = this.#layout;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < rows)) throw new RangeError(`token id ${id} is outside the embedding table (${rows} rows)`);
      const row = out.subarray(i * dim, (i + 1) * dim);
      if (format === 'fp32') {
        this.#file.read(offset + id * dim * 4, new Uint8Array(row.buffer, row.byteOffset, dim * 4));
      } else {
        this.#dequantizeRow(id, row);
      }
    }
  }

  #dequantizeRow(id: number, row: Float32Array): void {
    const { dim, offset } = this.#layout;
    const blocks = this.#layout.blocks ?? 0;
    const blockSize = this.#layout.blockSize ?? 0;
    // One row's bytes and scales, read into buffers kept for the next row (this runs once per token).
    if (!this.#q8) {
      const scales = new Float32Array(blocks);
      this.#q8 = { q: new Uint8Array(blocks * blockSize), scales, scaleBytes: new Uint8Array(scales.buffer) };
    }
    const { q, scales, scaleBytes } = this.#q8;
    this.#file.read(offset + id * q.length, q);
    this.#file.read((this.#layout.scalesOffset ?? 0) + id * blocks * 4, scaleBytes);
    for (let j = 0; j < dim; j++) row[j] = Math.fround((q[j] - 128) * scales[Math.floor(j / blockSize)]);
  }

  /** The data file read from (for messages). */
  get file(): string {
    return this.#path;
  }

  close(): void {
    this.#file.close();
  }
}
