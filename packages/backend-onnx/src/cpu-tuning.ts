import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AbortError, BackendError, type LoadOptions, ModelFormatError, throwIfAborted } from '@slmkit/core';
import { onnxCacheDir } from './config.js';
import { applyConvLinears, type ConvLinear, planConvLinears, transposedRows } from './export/conv-linears.js';
import { EXTERNAL_DATA_ALIGNMENT } from './export/external-data.js';
import { decodeOnnxModel, encodeOnnxModel, type TensorProto } from './proto/onnx-codec.js';
import { openRandomAccessFile } from './runtime/random-access-file.js';
import type { RandomAccessFile } from './runtime/runtime-seam.js';

/**
 * Tuning an fp32 decoder graph (KV-slot or Optimum layout) for the CPU that runs it (onnxruntime-node only): its
 * large linear layers are rewritten as 1x1 convolutions (conv-linears.ts), onnxruntime optimises that graph at level
 * `all` in a child process (the NCHWc pass reorders every filter for this CPU's vector width) and saves the result
 * with its weights in an external data file. Loading the saved graph maps those weights from disk as they are: no
 * prepacked copy, and decode steps that stream the weights about 1.5x faster than MatMul's kernel. The child holds
 * two copies of the weights for a moment; the process that runs the model never does.
 *
 * Results live in `<cache>/cpu-tuned/<key>/`, keyed by the graph's bytes, its folder's data files (size and mtime),
 * this CPU (architecture, model, vector extensions) and the onnxruntime version, so a folder copied to another
 * machine is tuned again there. A graph that gains nothing (no large linear layer, or a CPU without NCHWc kernels)
 * is remembered as such and runs as it is.
 */

/** Bumped when the rewrite or the saved layout changes, so older cache entries are not reused. */
const CPU_TUNING_VERSION = 3; // 2: logits checked against the original graph's; 3: Optimum graphs too
const MANIFEST = 'tuning.json';
const TUNED_GRAPH = 'model.onnx';
const TUNED_DATA = 'model.onnx_data';
const SOURCE_GRAPH = 'source.onnx';
const SOURCE_DATA = 'source.onnx_data';
/** Bytes of a weight copied or transposed at a time (a transposed slab holds whole filter rows). */
const SLAB_BYTES = 8 << 20;
/** The vector extensions that decide onnxruntime's kernels (x86); other flags do not matter to the tuned graph. */
const RELEVANT_CPU_FLAGS =
  /^(sse4_1|sse4_2|avx|avx2|fma|f16c|avx512f|avx512bw|avx512dq|avx512vl|avx512_vnni|avx512_bf16|avx_vnni|amx_tile|amx_int8|amx_bf16)$/;

export interface CpuTuningManifest {
  version: number;
  /** Whether the tuned graph is used: false when there was nothing to gain on this CPU. */
  applied: boolean;
  /** Why (or why not), in words. */
  reason: string;
  source: string;
  cpu: string;
  onnxruntime: string;
  /** Linear layers rewritten as Conv, and how many of them onnxruntime turned into NCHWc convolutions. */
  convLinears: number;
  nchwcConvs: number;
  /** Largest logit difference, tuned vs original graph, relative to the largest logit (one check at tuning time). */
  logitsDifference?: number;
}

export interface CpuTuningResult {
  /** The tuned graph to load (at optimisation level `disabled`: it is already optimised), or undefined. */
  file?: string;
  manifest: CpuTuningManifest;
}

export interface CpuTuningOptions extends Pick<LoadOptions, 'signal' | 'onProgress'> {
  /** Default: see `onnxCacheDir()`. */
  cacheDir?: string;
  /** The onnxruntime-node version (part of the cache key). */
  onnxruntimeVersion: string;
}

/** Architecture, CPU model and the vector extensions onnxruntime picks kernels by. */
export function cpuSignature(): string {
  let flags = '';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
    flags = line
      .trim()
      .split(/\s+/)
      .filter((f) => RELEVANT_CPU_FLAGS.test(f))
      .sort()
      .join(' ');
  } catch {
    // Not Linux: the model name stands for the CPU.
  }
  return `${arch()} | ${cpus()[0]?.model ?? 'unknown'} | ${flags}`;
}

async function tuningKey(graphFile: string, graphBytes: Uint8Array, cpu: string, ortVersion: string) {
  const hash = createHash('sha256');
  hash.update(`v${CPU_TUNING_VERSION}\n${cpu}\n${ortVersion}\n`);
  hash.update(graphBytes);
  // The weights live in the folder's data files; their size and mtime stand for their bytes.
  const dir = dirname(graphFile);
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('_data')).sort()) {
    const info = await stat(join(dir, name));
    hash.update(`${name}\n${info.size}\n${info.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

async function readManifest(dir: string): Promise<CpuTuningManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as CpuTuningManifest;
    return manifest.version === CPU_TUNING_VERSION ? manifest : undefined;
  } catch {
    return undefined;
  }
}

const resultOf = (dir: string, manifest: CpuTuningManifest): CpuTuningResult =>
  manifest.applied ? { file: join(dir, TUNED_GRAPH), manifest } : { manifest };

/**
 * The CPU-tuned copy of `graphFile` (see above), made on the first call for this graph, CPU and onnxruntime
 * version. Returns no file where tuning gains nothing or onnxruntime rejects the rewritten graph (both remembered);
 * throws AbortError when `signal` fires (the child process is killed), ModelFormatError when the graph's data is
 * shorter than it says.
 */
export async function tuneGraphForCpu(file: string, options: CpuTuningOptions): Promise<CpuTuningResult> {
  const graphFile = resolve(file);
  const graphBytes = new Uint8Array(await readFile(graphFile));
  const cpu = cpuSignature();
  const key = await tuningKey(graphFile, graphBytes, cpu, options.onnxruntimeVersion);
  const dir = join(options.cacheDir ?? onnxCacheDir(), 'cpu-tuned', key);
  const cached = await readManifest(dir);
  if (cached) return resultOf(dir, cached);

  const base = {
    version: CPU_TUNING_VERSION,
    source: graphFile,
    cpu,
    onnxruntime: options.onnxruntimeVersion,
  };
  const work = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(work, { recursive: true });
  try {
    const model = await decodeOnnxModel(graphBytes, graphFile);
    const plan = planConvLinears(model);
    let manifest: CpuTuningManifest;
    if (plan.length === 0) {
      manifest = {
        ...base,
        applied: false,
        reason: 'no linear layer large enough to gain',
        convLinears: 0,
        nchwcConvs: 0,
      };
    } else {
      options.onProgress?.({ fraction: 0.1, stage: 'tuning the graph for this CPU (first load only)' });
      await writeConvGraph(model, plan, graphFile, work, options.signal);
      options.onProgress?.({ fraction: 0.5, stage: 'onnxruntime is optimising the graph for this CPU' });
      const difference = await optimiseInChild(
        graphFile,
        join(work, SOURCE_GRAPH),
        join(work, TUNED_GRAPH),
        TUNED_DATA,
        options.signal,
      ).catch((error: unknown) => {
        // Remembered like any other result, so later loads do not try again.
        if (error instanceof BackendError) return error;
        throw error;
      });
      await rm(join(work, SOURCE_GRAPH));
      await rm(join(work, SOURCE_DATA), { force: true });
      if (difference instanceof BackendError) {
        manifest = {
          ...base,
          applied: false,
          reason: `onnxruntime rejected the rewritten graph: ${difference.message}`,
          convLinears: plan.length,
          nchwcConvs: 0,
        };
      } else {
        const tuned = await decodeOnnxModel(new Uint8Array(await readFile(join(work, TUNED_GRAPH))));
        const convs = tuned.graph.node.filter((n) => n.opType === 'Conv');
        const nchwc = convs.filter((n) => n.domain === 'com.microsoft.nchwc').length;
        const plain = convs.length - nchwc;
        const agrees = difference <= TUNED_LOGITS_TOLERANCE;
        const applied = nchwc > 0 && plain === 0 && agrees;
        manifest = {
          ...base,
          applied,
          reason: !agrees
            ? `the tuned graph's logits differed from the original's by ${difference.toExponential(2)} (relative)`
            : applied
              ? `${plan.length} linear ${plan.length === 1 ? 'layer runs' : 'layers run'} as NCHWc convolutions`
              : `onnxruntime left ${plain} of ${convs.length} convolutions outside NCHWc on this CPU`,
          convLinears: plan.length,
          nchwcConvs: nchwc,
          logitsDifference: difference,
        };
      }
      if (!manifest.applied) {
        await rm(join(work, TUNED_GRAPH), { force: true });
        await rm(join(work, TUNED_DATA), { force: true });
      }
    }
    await writeFile(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await pruneStaleEntries(dirname(dir), graphFile);
    try {
      await rename(work, dir);
    } catch (error) {
      // Another process tuned the same graph meanwhile: use its result.
      const other = await readManifest(dir);
      if (!other) throw error;
      await rm(work, { recursive: true, force: true });
      return resultOf(dir, other);
    }
    options.onProgress?.({ fraction: 1, stage: 'tuned for this CPU' });
    return resultOf(dir, manifest);
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/** Work folders older than this were left by a process that died while tuning. */
const ABANDONED_WORK_MS = 3_600_000;

/**
 * Removes the entries made for `graphFile` before (its weights changed since), those whose graph is gone and
 * abandoned work folders, so re-exports and deleted folders do not pile up.
 */
async function pruneStaleEntries(root: string, graphFile: string): Promise<void> {
  for (const name of await readdir(root).catch(() => [])) {
    const entry = join(root, name);
    if (name.includes('.tmp-')) {
      const info = await stat(entry).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > ABANDONED_WORK_MS) {
        await rm(entry, { recursive: true, force: true }).catch(() => undefined);
      }
      continue;
    }
    const manifest = await readManifest(entry);
    const stale =
      !manifest ||
      manifest.source === graphFile ||
      !(await stat(manifest.source).then(
        () => true,
        () => false,
      ));
    // Best effort: an entry another process has open may not be removable everywhere.
    if (stale) await rm(entry, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Whether an initializer's bytes are in a data file (decoded protos carry an empty rawData then). */
const isExternal = (tensor: TensorProto) => (tensor.externalData?.length ?? 0) > 0;

/** Where an initializer's bytes are: inline, or a range of a data file beside the graph. */
function externalRange(tensor: TensorProto, graphFile: string): { file: string; offset: number; length: number } {
  const entry = (key: string) => tensor.externalData?.find((e) => e.key === key)?.value;
  const location = entry('location');
  if (!location) {
    throw new ModelFormatError(`initializer "${tensor.name}" has external data without a location`, {
      file: graphFile,
      field: tensor.name,
    });
  }
  return {
    file: join(dirname(graphFile), location),
    offset: Number(entry('offset') ?? 0),
    length: Number(entry('length') ?? 0),
  };
}

/**
 * Writes the Conv-rewritten graph and one data file with every weight it reads (filters transposed slab by slab,
 * the rest copied), so onnxruntime loads it from `work` alone.
 */
async function writeConvGraph(
  model: Parameters<typeof applyConvLinears>[0],
  plan: readonly ConvLinear[],
  graphFile: string,
  work: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  /** The source graph's data files, opened once each. */
  const files = new Map<string, RandomAccessFile>();
  const out = await open(join(work, SOURCE_DATA), 'w');
  let offset = 0;
  const append = async (bytes: Uint8Array) => {
    await out.write(bytes, 0, bytes.byteLength, offset);
    offset += bytes.byteLength;
  };
  /** Bytes [from, from + into.length) of a tensor, wherever they are. */
  const readTensor = (tensor: TensorProto, from: number, into: Uint8Array) => {
    const range = isExternal(tensor) ? externalRange(tensor, graphFile) : undefined;
    const length = range ? range.length : (tensor.rawData?.byteLength ?? 0);
    if (from + into.byteLength > length) {
      throw new ModelFormatError(`initializer "${tensor.name}" is shorter than its shape`, {
        file: range?.file ?? graphFile,
        field: tensor.name,
      });
    }
    if (!range) {
      into.set((tensor.rawData as Uint8Array).subarray(from, from + into.byteLength));
      return;
    }
    let file = files.get(range.file);
    if (!file) {
      file = openRandomAccessFile(range.file);
      files.set(range.file, file);
    }
    file.read(range.offset + from, into);
  };
  /**
   * Appends `bytes` bytes of a tensor at the next aligned offset, `slabBytes` at a time from `slab`; returns the
   * tensor's external entry.
   */
  const appendTensor = async (
    tensor: TensorProto,
    bytes: number,
    slab: (at: number, size: number) => Uint8Array,
    slabBytes = SLAB_BYTES,
  ): Promise<TensorProto> => {
    offset = Math.ceil(offset / EXTERNAL_DATA_ALIGNMENT) * EXTERNAL_DATA_ALIGNMENT;
    const start = offset;
    for (let at = 0; at < bytes; at += slabBytes) await append(slab(at, Math.min(slabBytes, bytes - at)));
    return {
      ...tensor,
      rawData: undefined,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: SOURCE_DATA },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(bytes) },
      ],
    };
  };
  /** Slabs of a tensor's own bytes. */
  const copied = (tensor: TensorProto) => (at: number, size: number) => {
    const chunk = new Uint8Array(size);
    readTensor(tensor, at, chunk);
    return chunk;
  };
  try {
    const filters: TensorProto[] = [];
    for (const linear of plan) {
      throwIfAborted(signal, 'CPU tuning');
      const { k, n, weight } = linear;
      const filter: TensorProto = { name: linear.filter, dims: [n, k, 1, 1], dataType: weight.dataType };
      // `nk`: the table already is the filter. `kn`: filter rows are columns of W, whole rows per slab.
      const rowBytes = k * 4;
      const transposed = (at: number, size: number) => {
        const from = at / rowBytes;
        const rows = transposedRows(k, from, from + size / rowBytes, (row, into) =>
          readTensor(weight, (row * n + from) * 4, new Uint8Array(into.buffer, into.byteOffset, into.byteLength)),
        );
        return new Uint8Array(rows.buffer);
      };
      const wholeRows = Math.max(1, Math.floor(SLAB_BYTES / rowBytes)) * rowBytes;
      filters.push(
        linear.layout === 'nk'
          ? await appendTensor(filter, k * n * 4, copied(weight))
          : await appendTensor(filter, k * n * 4, transposed, wholeRows),
      );
    }
    const rewritten = applyConvLinears(model, plan, filters);
    const fresh = new Set(filters.map((f) => f.name));
    const initializer: TensorProto[] = [];
    for (const tensor of rewritten.graph.initializer) {
      if (fresh.has(tensor.name) || !isExternal(tensor)) {
        initializer.push(tensor);
        continue;
      }
      throwIfAborted(signal, 'CPU tuning');
      initializer.push(await appendTensor(tensor, externalRange(tensor, graphFile).length, copied(tensor)));
    }
    const graph = { ...rewritten, graph: { ...rewritten.graph, initializer } };
    await writeFile(join(work, SOURCE_GRAPH), await encodeOnnxModel(graph));
  } finally {
    await out.close();
    for (const file of files.values()) file.close();
  }
}

/**
 * Run by `node -e` in the child: optimise the rewritten graph at level `all` and save it (weights in an external
 * file), then check it: the original graph and the saved one, loaded one after the other, run the same 3 new tokens
 * over an 8-position cache (values drawn from a fixed sequence; `past_bias` 0, `attention_mask` 1) and must give the
 * same logits.
 * Prints the largest difference, relative to the largest logit, as JSON.
 */
const CHILD_SCRIPT = `
const [ortPath, original, source, target, dataName] = process.argv.slice(1);
const ort = require(ortPath);
const options = { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };
// Symbolic sizes: KV-slot graphs (capacity) and Optimum's (past/total lengths; older exports name the total
// 'past_sequence_length + 1', with one new token). Other names get 1.
const oneNew = (session) => session.inputMetadata.some((i) => i.shape.includes('past_sequence_length + 1'));
const sizes = (session) => {
  const s = oneNew(session) ? 1 : 3;
  return { batch_size: 1, sequence_length: s, capacity: 8, past_sequence_length: 8, total_sequence_length: 8 + s,
    'past_sequence_length + 1': 9 };
};
let state = 1;
const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2;
function feedsFor(session) {
  const feeds = {};
  const known = sizes(session);
  for (const input of session.inputMetadata) {
    const dims = input.shape.map((d) => (typeof d === 'number' ? d : (known[d] ?? 1)));
    const size = dims.reduce((a, b) => a * b, 1);
    if (input.type === 'int64') {
      const data = new BigInt64Array(size);
      if (input.name === 'attention_mask') data.fill(1n);
      else if (input.name !== 'logits_from') for (let i = 0; i < size; i++) data[i] = BigInt(i % dims[dims.length - 1]);
      feeds[input.name] = new ort.Tensor('int64', data, dims);
    } else {
      const data = new Float32Array(size);
      if (input.name !== 'past_bias') for (let i = 0; i < size; i++) data[i] = next();
      feeds[input.name] = new ort.Tensor('float32', data, dims);
    }
  }
  return feeds;
}
async function logits(file, extra) {
  const session = await ort.InferenceSession.create(file, { ...options, ...extra });
  state = 1;
  const out = await session.run(feedsFor(session), ['logits']);
  await session.release();
  return out.logits.data;
}
(async () => {
  const optimised = await ort.InferenceSession.create(source, { ...options, optimizedModelFilePath: target,
    extra: { session: { optimized_model_external_initializers_file_name: dataName,
      optimized_model_external_initializers_min_size_in_bytes: '4096' } } });
  await optimised.release();
  const want = await logits(original, {});
  const got = await logits(target, { graphOptimizationLevel: 'disabled' });
  let diff = want.length === got.length ? 0 : Infinity;
  let scale = 1;
  for (let i = 0; i < want.length && diff !== Infinity; i++) {
    diff = Math.max(diff, Math.abs(want[i] - got[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  process.stdout.write(JSON.stringify({ relativeDifference: Number.isNaN(diff) ? Infinity : diff / scale }));
})().then(
  () => process.exit(0),
  (error) => { process.stderr.write(String((error && error.message) || error)); process.exit(1); },
);
`;

/** Tuned graphs whose logits differ from the original's by more than this (relative to the largest) are dropped. */
export const TUNED_LOGITS_TOLERANCE = 1e-4;

async function optimiseInChild(
  original: string,
  source: string,
  target: string,
  dataName: string,
  signal?: AbortSignal,
): Promise<number> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  // Loaded here, not at import: child_process costs every process ~1.3 MB, and most loads never tune.
  const { execFile } = await import('node:child_process');
  return new Promise<number>((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', CHILD_SCRIPT, ortPath, original, source, target, dataName],
      { signal, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (!error) {
          const last = stdout.trim().split('\n').pop() ?? '';
          resolve(Number((JSON.parse(last) as { relativeDifference: number | null }).relativeDifference ?? Infinity));
        } else if (signal?.aborted) reject(new AbortError('CPU tuning was aborted', { cause: signal.reason }));
        else {
          reject(
            new BackendError(`onnxruntime could not optimise the graph for this CPU: ${stderr || error.message}`, {
              file: source,
              cause: error,
            }),
          );
        }
      },
    );
  });
}
