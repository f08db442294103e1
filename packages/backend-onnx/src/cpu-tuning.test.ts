import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AbortError, generateText, type LoadedModel, ModelFormatError } from '@slmkit/core';
import { createRandomModel } from '@slmkit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuSignature, TUNED_LOGITS_TOLERANCE, tuneGraphForCpu } from './cpu-tuning.js';
import { GraphBuilder } from './export/graph-builder.js';
import { createOnnxBackend, encodeOnnxModel, exportOnnxFolder } from './index.js';
import { logitRows, maxDiff } from './logit-rows.test-helpers.js';
import { OnnxDataType } from './proto/onnx-codec.js';
import { nodeOrtRuntime } from './runtime/ort-node.js';

const work = mkdtempSync(join(tmpdir(), 'slmkit-cpu-tuning-'));
const untiedDir = join(work, 'untied');
const tiedDir = join(work, 'tied');
const onnxruntimeVersion = nodeOrtRuntime.version;
// onnxruntime's NCHWc kernels exist on x86 with AVX2 or AVX-512; elsewhere tuning must say it gained nothing.
const nchwcCpu = process.arch === 'x64' && /\b(avx2|avx512f)\b/.test(cpuSignature());
const shape = { vocabSize: 512, dim: 256, nLayers: 2, nHeads: 8, nKvHeads: 4, ffnDim: 512, contextLength: 96 };

beforeAll(async () => {
  // Untied with external data (the KV-slot graph takes inputs_embeds); tied with the weights inside the graph.
  const variants = ['fp32', 'int8', 'slots', 'slots-int8'] as const;
  await exportOnnxFolder(createRandomModel({ ...shape, seed: 4, tiedEmbeddings: false }), untiedDir, {
    variants,
    externalData: true,
  });
  await exportOnnxFolder(createRandomModel({ ...shape, seed: 6, tiedEmbeddings: true }), tiedDir, { variants });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Tuned and untuned loads of `dir` agree: logits of a prefill then single-token steps, and greedy ids. */
async function expectSameModel(
  dir: string,
  cacheDir: string,
  options: { kvLayout?: 'optimum' } = {},
): Promise<LoadedModel> {
  const tuned = createOnnxBackend({ ...options, cacheDir, threads: 1 });
  const plain = createOnnxBackend({ ...options, cpuTuning: false, threads: 1 });
  try {
    const a = await tuned.load(dir);
    const b = await plain.load(dir);
    expect(b.info.details?.cpuTuning).toBeUndefined();
    const ids = a.tokenizer.encode('the quick brown fox jumps over the lazy dog');
    const plan = [ids.slice(0, 5), ...ids.slice(5).map((t) => [t])];
    const ra = await logitRows(a, plan);
    const rb = await logitRows(b, plan);
    for (let i = 0; i < ra.length; i++)
      expect(maxDiff(ra[i] as Float32Array, rb[i] as Float32Array)).toBeLessThan(1e-3);
    const ga = await generateText({ model: a, prompt: 'the quick', maxTokens: 70, temperature: 0, stopTokens: [] });
    const gb = await generateText({ model: b, prompt: 'the quick', maxTokens: 70, temperature: 0, stopTokens: [] });
    expect(ga.tokens.length).toBe(70);
    expect(ga.tokens).toEqual(gb.tokens);
    return a;
  } finally {
    await tuned.dispose();
    await plain.dispose();
  }
}

describe('KV-slot graphs tuned for this CPU', () => {
  it('run with the logits and greedy ids of the untuned graph, and say what was done', async () => {
    const cacheDir = join(work, 'cache-untied');
    const model = await expectSameModel(untiedDir, cacheDir);
    const details = model.info.details ?? {};
    if (nchwcCpu) {
      // q, o, gate, up, down per layer (k and v, 256 x 128, are under the threshold) and the vocabulary projection.
      expect(details.cpuTuning).toBe('11 linear layers run as NCHWc convolutions');
      expect(details.graphOptimizationLevel).toBe('disabled');
      expect(String(details.cpuTunedFile)).toContain(join(cacheDir, 'cpu-tuned'));
    } else {
      expect(details.cpuTuning).toMatch(/outside NCHWc/);
      expect(details.cpuTunedFile).toBeUndefined();
    }
  });

  it('tunes a tied model whose weights are inside the graph (the vocabulary projection reads the table)', async () => {
    const model = await expectSameModel(tiedDir, join(work, 'cache-tied'));
    if (nchwcCpu) expect(model.info.details?.cpuTuning).toBe('11 linear layers run as NCHWc convolutions');
  });

  it('tunes Optimum-layout graphs too (kvLayout optimum), with the logits and greedy ids of the untuned graph', async () => {
    const model = await expectSameModel(untiedDir, join(work, 'cache-optimum'), { kvLayout: 'optimum' });
    expect(String(model.info.details?.file)).toMatch(/\/onnx\/model\.onnx$/);
    // The same 11 linear layers as in the KV-slot graph (k and v are 256 x 128).
    if (nchwcCpu) expect(model.info.details?.cpuTuning).toBe('11 linear layers run as NCHWc convolutions');
  });

  it('remembers a graph that onnxruntime rejects once rewritten (a linear layer on a 2-D input)', async () => {
    const dir = join(work, 'two-d');
    mkdirSync(dir);
    const g = new GraphBuilder();
    g.input('x', OnnxDataType.FLOAT, [1, 256]);
    g.op('MatMul', ['x', g.float('w', [256, 512], new Float32Array(256 * 512).fill(0.01))], {}, { out: 'logits' });
    g.output('logits', OnnxDataType.FLOAT, [1, 512]);
    const file = join(dir, 'model.onnx');
    writeFileSync(
      file,
      await encodeOnnxModel({ irVersion: 8, graph: g.graph('two-d'), opsetImport: [{ domain: '', version: 17 }] }),
    );
    const cacheDir = join(work, 'cache-two-d');
    const first = await tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion });
    expect(first.file).toBeUndefined();
    expect(first.manifest).toMatchObject({ applied: false, convLinears: 1 });
    expect(first.manifest.reason).toMatch(/^onnxruntime rejected the rewritten graph: /);
    const [entry] = readdirSync(join(cacheDir, 'cpu-tuned'));
    const manifest = join(cacheDir, 'cpu-tuned', entry as string, 'tuning.json');
    const written = statSync(manifest).mtimeMs;
    expect(await tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion })).toEqual(first);
    expect(statSync(manifest).mtimeMs).toBe(written);
    expect(readdirSync(join(cacheDir, 'cpu-tuned', entry as string))).toEqual(['tuning.json']);
  });

  it('tunes once per graph and machine: later calls read the cache', async () => {
    const cacheDir = join(work, 'cache-once');
    const file = join(untiedDir, 'onnx', 'model_slots.onnx');
    const first = await tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion });
    const entries = readdirSync(join(cacheDir, 'cpu-tuned'));
    expect(entries).toHaveLength(1);
    const manifest = join(cacheDir, 'cpu-tuned', entries[0] as string, 'tuning.json');
    const written = statSync(manifest).mtimeMs;
    const second = await tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion });
    expect(second).toEqual(first);
    // Checked once, in the child: the saved graph's logits against the original graph's.
    expect(first.manifest.logitsDifference).toBeGreaterThanOrEqual(0);
    expect(first.manifest.logitsDifference).toBeLessThanOrEqual(TUNED_LOGITS_TOLERANCE);
    expect(statSync(manifest).mtimeMs).toBe(written);
    // Another onnxruntime version is another entry, which replaces this graph's older one.
    const other = await tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion: `${onnxruntimeVersion}-other` });
    expect(other.manifest.onnxruntime).toBe(`${onnxruntimeVersion}-other`);
    const now = readdirSync(join(cacheDir, 'cpu-tuned'));
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(entries[0]);
  });

  it('drops entries whose graph is gone, and abandoned work folders, when it tunes another', async () => {
    const cacheDir = join(work, 'cache-prune');
    const gone = join(work, 'gone');
    mkdirSync(join(gone, 'onnx'), { recursive: true });
    for (const name of ['model_slots.onnx', 'model.onnx_data']) {
      copyFileSync(join(untiedDir, 'onnx', name), join(gone, 'onnx', name));
    }
    await tuneGraphForCpu(join(gone, 'onnx', 'model_slots.onnx'), { cacheDir, onnxruntimeVersion });
    rmSync(gone, { recursive: true });
    // A work folder left by a process that died an hour ago goes too; a recent one (being written) stays.
    const abandoned = join(cacheDir, 'cpu-tuned', 'x.tmp-1-dead');
    const recent = join(cacheDir, 'cpu-tuned', 'y.tmp-2-busy');
    mkdirSync(abandoned);
    mkdirSync(recent);
    const hourAgo = new Date(Date.now() - 3_700_000);
    utimesSync(abandoned, hourAgo, hourAgo);
    await tuneGraphForCpu(join(tiedDir, 'onnx', 'model_slots.onnx'), { cacheDir, onnxruntimeVersion });
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    rmSync(recent, { recursive: true });
    const entries = readdirSync(join(cacheDir, 'cpu-tuned'));
    expect(entries).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(cacheDir, 'cpu-tuned', entries[0] as string, 'tuning.json'), 'utf8'));
    expect(manifest.source).toBe(join(tiedDir, 'onnx', 'model_slots.onnx'));
  });

  it('skips int8 models and models too small to gain without looking at the cache', async () => {
    const cacheDir = join(work, 'cache-skipped');
    const int8 = createOnnxBackend({ cacheDir, dtype: 'int8', threads: 1 });
    const fp32 = createOnnxBackend({ cacheDir, threads: 1 });
    try {
      const model = await int8.load(untiedDir);
      expect(model.info.weightType).toBe('int8');
      expect(model.info.details?.cpuTuning).toBeUndefined();
      // The tiny preset: no matrix reaches CONV_LINEAR_MIN_ELEMENTS.
      const smallDir = join(work, 'small');
      await exportOnnxFolder(createRandomModel({ seed: 8 }), smallDir, { variants: ['fp32', 'slots'] });
      const small = await fp32.load(smallDir);
      expect(String(small.info.details?.file)).toMatch(/model_slots\.onnx$/);
      expect(small.info.details?.cpuTuning).toBeUndefined();
    } finally {
      await int8.dispose();
      await fp32.dispose();
    }
    expect(() => readdirSync(join(cacheDir, 'cpu-tuned'))).toThrow();
  });

  it('leaves graphs without float32 linear layers as they are (int8)', async () => {
    const result = await tuneGraphForCpu(join(untiedDir, 'onnx', 'model_slots_quantized.onnx'), {
      cacheDir: join(work, 'cache-int8'),
      onnxruntimeVersion,
    });
    expect(result.file).toBeUndefined();
    expect(result.manifest).toMatchObject({
      applied: false,
      convLinears: 0,
      reason: 'no linear layer large enough to gain',
    });
  });

  it('stops on abort, before or while onnxruntime optimises, and leaves no cache entry', async () => {
    const cacheDir = join(work, 'cache-abort');
    const file = join(untiedDir, 'onnx', 'model_slots.onnx');
    await expect(
      tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion, signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortError);
    const controller = new AbortController();
    const stages: string[] = [];
    const running = tuneGraphForCpu(file, {
      cacheDir,
      onnxruntimeVersion,
      signal: controller.signal,
      onProgress: (p) => {
        stages.push(p.stage);
        if (p.stage.startsWith('onnxruntime is optimising')) controller.abort();
      },
    });
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(stages.some((s) => s.startsWith('onnxruntime is optimising'))).toBe(true);
    expect(readdirSync(join(cacheDir, 'cpu-tuned'))).toEqual([]);
  });

  it('names the data file when it is shorter than the graph says', async () => {
    const broken = join(work, 'truncated');
    mkdirSync(join(broken, 'onnx'), { recursive: true });
    for (const name of ['model_slots.onnx', 'model.onnx_data']) {
      copyFileSync(join(untiedDir, 'onnx', name), join(broken, 'onnx', name));
    }
    truncateSync(join(broken, 'onnx', 'model.onnx_data'), 100_000);
    const tuning = tuneGraphForCpu(join(broken, 'onnx', 'model_slots.onnx'), {
      cacheDir: join(work, 'cache-truncated'),
      onnxruntimeVersion,
    });
    await expect(tuning).rejects.toBeInstanceOf(ModelFormatError);
    await expect(tuning).rejects.toThrow(/model\.onnx_data/);
  });

  it.skipIf(!nchwcCpu)('loads the graph itself when its tuned copy was removed after the cache lookup', async () => {
    const cacheDir = join(work, 'cache-vanished');
    const file = join(untiedDir, 'onnx', 'model_slots.onnx');
    const { file: tuned } = await tuneGraphForCpu(file, { cacheDir, onnxruntimeVersion });
    if (!tuned) throw new Error('expected a tuned copy on an AVX2/AVX-512 CPU');
    // The manifest stays (the lookup still finds the entry); the tuned data file is gone.
    rmSync(join(dirname(tuned), 'model.onnx_data'));
    const backend = createOnnxBackend({ cacheDir, threads: 1 });
    try {
      const model = await backend.load(untiedDir);
      expect(model.info.details?.cpuTuning).toMatch(/^not tuned: the tuned copy failed to load/);
      expect(model.info.details?.cpuTunedFile).toBeUndefined();
      expect(model.info.details?.graphOptimizationLevel).toBe('all');
      const out = await generateText({ model, prompt: 'the', maxTokens: 4, temperature: 0, stopTokens: [] });
      expect(out.tokens).toHaveLength(4);
    } finally {
      await backend.dispose();
    }
  });

  it('loads the untuned graph when the cache cannot be written, saying why', async () => {
    const notADir = join(work, 'cache-is-a-file');
    writeFileSync(notADir, 'x');
    const backend = createOnnxBackend({ cacheDir: notADir, threads: 1 });
    try {
      const model = await backend.load(untiedDir);
      expect(model.info.details?.cpuTuning).toMatch(/^not tuned: /);
      expect(model.info.details?.cpuTunedFile).toBeUndefined();
      const out = await generateText({ model, prompt: 'the', maxTokens: 4, temperature: 0, stopTokens: [] });
      expect(out.tokens).toHaveLength(4);
    } finally {
      await backend.dispose();
    }
  });
});
