#!/usr/bin/env node
// Decode benchmark: slmkit's llamacpp backend (default settings) vs plain node-llama-cpp at its best thread count,
// measured in the same run, on stories260K and random-weight 24M / 134M models (f32 GGUF written by core's writer).
// Run: pnpm --filter @slmkit/backend-llamacpp bench [-- --models 260k,24m,134m --repeats 3 --json]
// Needs built packages (the script builds them first). Progress goes to stderr; the result table to stdout.
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cacheModelDataAsGguf,
  cacheModelFilesAsGguf,
  createLlamaCppBackend,
  defaultGgufCacheDir,
} from '@slmkit/backend-llamacpp';
import { generate } from '@slmkit/core';
import { availableCpuCores } from '@slmkit/core/node';
import { createRandomModel, RANDOM_MODEL_PRESETS } from '@slmkit/core/testing';
import { stories260KPaths } from '@slmkit/core/testing/shared';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: '260k,24m,134m' },
    repeats: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    'cache-dir': { type: 'string' },
    /** Also run slmkit's backend at these thread counts (comma-separated), besides its default. */
    'ours-threads': { type: 'string' },
    /** Also write the full results (every repeat) as JSON to this file. */
    out: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const cacheDir = values['cache-dir'] ?? join(defaultGgufCacheDir(), 'bench');
const log = (line) => process.stderr.write(`${line}\n`);

/** Decode lengths per model: long enough to time, short enough for a 2-core machine. */
const MODELS = {
  '260k': { decode: 400, chunk: 25, contextSize: 512 },
  '24m': { decode: 160, chunk: 10, contextSize: 256 },
  '134m': { decode: 48, chunk: 4, contextSize: 512 },
};

async function ggufFor(name) {
  if (name === '260k') {
    const paths = stories260KPaths();
    if (!paths) throw new Error('../shared is absent: stories260K is needed');
    return (await cacheModelFilesAsGguf({ path: paths.model, tokenizerPath: paths.tokenizer }, { cacheDir })).path;
  }
  log(`creating random-weight ${name} model...`);
  const data = createRandomModel({ ...RANDOM_MODEL_PRESETS[name], seed: 1, name: `random-${name}` });
  return (await cacheModelDataAsGguf(data, { cacheDir, quantize: 'f32' })).path;
}

const PROMPT = [1, 403, 407, 261, 378];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A token source that can be advanced a few tokens at a time, so several can be timed interleaved. */
function oursSource(model, total) {
  const parts = generate({ model, prompt: PROMPT, maxTokens: total + 1, temperature: 0, stopTokens: [] });
  return {
    name: 'ours',
    async next() {
      for (;;) {
        const { value, done } = await parts.next();
        if (done) throw new Error('ours ended early');
        if (value.type === 'token') return;
      }
    },
    async close() {
      await parts.return(undefined);
    },
  };
}

async function plainSource(model, threads, contextSize, flashAttention) {
  const context = await model.createContext({ contextSize, threads, sequences: 1, flashAttention });
  const tokens = context.getSequence().evaluate(PROMPT, { temperature: 0 });
  return {
    name: `plain-t${threads}${flashAttention === false ? '-nofa' : ''}`,
    async next() {
      const { done } = await tokens.next();
      if (done) throw new Error('plain ended early');
    },
    async close() {
      await tokens.return(undefined);
      await context.dispose();
    },
  };
}

/** node-llama-cpp's addon context driven directly (decodeBatch + sampleToken), with llama.cpp's perf counters on. */
async function addonLoopSource(llama, model, contextSize) {
  // Flash attention off, as slmkit's backend runs it (llama.cpp's CPU flash-attention path is slower for tiny heads).
  const context = await model.createContext({
    contextSize,
    threads: 1,
    sequences: 1,
    performanceTracking: true,
    flashAttention: false,
  });
  const sequence = context.getSequence();
  const raw = context._ctx;
  const sampler = new llama._bindings.AddonSampler(model._model);
  sampler.applyConfig({ temperature: 0 });
  let tokens = PROMPT;
  let position = 0;
  return {
    name: 'addon-loop',
    async next() {
      raw.initBatch(tokens.length);
      const [index] = raw.addToBatch(
        sequence._sequenceId,
        position,
        Uint32Array.from(tokens),
        Uint32Array.of(tokens.length - 1),
      );
      await raw.decodeBatch();
      position += tokens.length;
      tokens = [await raw.sampleToken(index, sampler)];
    },
    /** Resets llama.cpp's counters (prefill excluded from what follows). */
    async resetPerf() {
      raw.printTimings();
      await sleep(50);
      perfLines.length = 0;
    },
    /** llama.cpp's own eval time per decoded token, in microseconds (from its perf log). */
    async evalUs() {
      perfLines.length = 0;
      raw.printTimings();
      await sleep(100);
      const line = perfLines.find((l) => /eval time/.test(l) && !/prompt/.test(l)) ?? '';
      const match = /eval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(line);
      return match ? (Number(match[1]) * 1000) / Number(match[2]) : Number.NaN;
    },
    async close() {
      sampler.dispose();
      await context.dispose();
    },
  };
}

/**
 * Paired measurement: the sources take turns producing `chunk` tokens each until each has produced `total`, and each
 * is timed only while it runs. Load from other processes then falls on all of them alike (this machine is shared).
 * A source slower than `budgetMs` in total stops early; its rate is clear by then.
 */
async function interleaved(sources, total, chunk, budgetMs = 8000) {
  for (const s of sources) await s.next(); // prefill + first token, untimed
  for (const s of sources) await s.resetPerf?.();
  const stats = sources.map(() => ({ ms: 0, cpuUs: 0, tokens: 0, stopped: false }));
  for (let done = 0; done < total; done += chunk) {
    for (let i = 0; i < sources.length; i++) {
      if (stats[i].stopped) continue;
      const start = performance.now();
      const cpu = process.cpuUsage();
      for (let k = 0; k < chunk; k++) await sources[i].next();
      const used = process.cpuUsage(cpu);
      stats[i].ms += performance.now() - start;
      // CPU time of the whole process (main thread + the worker running llama.cpp): unlike wall time it does not grow
      // while other processes hold the cores, so it shows each path's own cost on a busy machine.
      stats[i].cpuUs += used.user + used.system;
      stats[i].tokens += chunk;
      if (stats[i].ms > budgetMs) stats[i].stopped = true;
    }
  }
  const result = {};
  for (let i = 0; i < sources.length; i++) {
    result[sources[i].name] = (stats[i].tokens * 1000) / stats[i].ms;
    result.cpuUsPerToken ??= {};
    result.cpuUsPerToken[sources[i].name] = stats[i].cpuUs / stats[i].tokens;
    if (sources[i].evalUs) result.llamaEvalUs = await sources[i].evalUs();
  }
  for (const s of sources) await s.close();
  return result;
}

const cores = availableCpuCores();
const threadCandidates = [
  ...new Set(
    [1, 2, 4, 8, cores, availableParallelism()].filter((t) => t >= 1 && t <= Math.max(cores, availableParallelism())),
  ),
].sort((a, b) => a - b);
const perfLines = [];
// llama.cpp's log callback is process-wide and the last Llama instance created owns it: llama.cpp's own eval time
// (read from its perf log) is measured first, before slmkit's backend starts its own instance.
const llama = await getLlama({
  build: 'never',
  gpu: 'auto',
  progressLogs: false,
  logLevel: LlamaLogLevel.info,
  logger: (_level, message) => {
    if (/eval time|load time|sample time|total time/.test(message)) perfLines.push(message);
  },
});
const evalUsBy260k = [];
if (values.models.split(',').includes('260k')) {
  const path = await ggufFor('260k');
  const model = await llama.loadModel({ modelPath: path, gpuLayers: llama.gpu ? 'max' : 0 });
  for (let r = 0; r < repeats; r++) {
    const result = await interleaved(
      [
        await addonLoopSource(llama, model, MODELS['260k'].contextSize),
        await plainSource(model, 1, MODELS['260k'].contextSize),
      ],
      MODELS['260k'].decode,
      MODELS['260k'].chunk,
    );
    evalUsBy260k.push(result.llamaEvalUs);
    log(
      `260k llama.cpp eval time: ${result.llamaEvalUs.toFixed(1)} us/token (addon loop ${result['addon-loop'].toFixed(1)} tok/s, plain t1 ${result['plain-t1'].toFixed(1)} tok/s)`,
    );
  }
  await model.dispose();
}
const backend = createLlamaCppBackend({ cacheDir });
const results = [];
log(
  `llama.cpp math cores: ${llama.cpuMathCores}; cores (cgroup-aware): ${cores}; os.availableParallelism: ${availableParallelism()}; plain thread candidates: ${threadCandidates.join(', ')}; load ${loadavg()[0].toFixed(1)}`,
);
for (const name of values.models.split(',')) {
  const settings = MODELS[name];
  if (!settings) throw new Error(`unknown model ${name}`);
  const path = await ggufFor(name);
  const model = await llama.loadModel({ modelPath: path, gpuLayers: llama.gpu ? 'max' : 0 });
  const rows = {
    ours: [],
    plainByThreads: Object.fromEntries(threadCandidates.map((t) => [t, []])),
    addonLoop: [],
    plainT1NoFa: [],
    cpuUsPerToken: [],
  };
  let ourThreads = 0;
  let device = 'cpu';
  for (let r = 0; r < repeats; r++) {
    const ours = await backend.load(path);
    ourThreads = ours.info.threads;
    device = ours.info.device;
    const sources = [oursSource(ours, settings.decode)];
    const extra = [];
    for (const t of (values['ours-threads'] ?? '').split(',').filter(Boolean).map(Number)) {
      const m = await backend.load(path, { threads: t });
      extra.push(m);
      sources.push({ ...oursSource(m, settings.decode), name: `ours-t${t}` });
    }
    for (const t of threadCandidates) sources.push(await plainSource(model, t, settings.contextSize));
    if (name === '260k') {
      sources.push(await addonLoopSource(llama, model, settings.contextSize));
      // node-llama-cpp's public path with flash attention off too: separates the settings' effect from the path's.
      sources.push(await plainSource(model, 1, settings.contextSize, false));
    }
    // Rotate who goes first each repeat.
    const rotated = sources.map((_, i) => sources[(i + r) % sources.length]);
    const result = await interleaved(rotated, settings.decode, settings.chunk);
    await ours.dispose();
    for (const m of extra) await m.dispose();
    const extraLine = Object.keys(result)
      .filter((k) => k.startsWith('ours-t'))
      .map((k) => `${k} ${result[k].toFixed(1)}`)
      .join(', ');
    if (extraLine) log(`${name} repeat ${r + 1} slmkit at fixed threads: ${extraLine}`);
    rows.ours.push(result.ours);
    for (const t of threadCandidates) rows.plainByThreads[t].push(result[`plain-t${t}`]);
    if (result['addon-loop'] !== undefined) rows.addonLoop.push(result['addon-loop']);
    rows.cpuUsPerToken.push(result.cpuUsPerToken);
    if (result['plain-t1-nofa'] !== undefined) rows.plainT1NoFa.push(result['plain-t1-nofa']);
    log(
      `${name} repeat ${r + 1}: ours ${result.ours.toFixed(1)} tok/s (${ourThreads} threads); ${threadCandidates.map((t) => `plain t${t} ${result[`plain-t${t}`].toFixed(1)}`).join(', ')}${result['addon-loop'] ? `; addon loop ${result['addon-loop'].toFixed(1)}; plain t1 flash-attention off ${result['plain-t1-nofa'].toFixed(1)}` : ''}; load ${loadavg()[0].toFixed(1)}`,
    );
  }
  const plainMedians = Object.fromEntries(threadCandidates.map((t) => [t, median(rows.plainByThreads[t])]));
  const bestThreads = Number(Object.entries(plainMedians).sort((a, b) => b[1] - a[1])[0][0]);
  const row = {
    model: name,
    device,
    ourThreads,
    oursTokensPerSecond: median(rows.ours),
    plainBestThreads: bestThreads,
    plainBestTokensPerSecond: plainMedians[bestThreads],
    plainByThreads: plainMedians,
    ratio: median(rows.ours) / plainMedians[bestThreads],
    ratioPerRepeat: rows.ours.map((v, i) => v / Math.max(...threadCandidates.map((t) => rows.plainByThreads[t][i]))),
    repeats,
    loadAverageAtEnd: loadavg()[0],
    raw: rows,
  };
  if (rows.addonLoop.length > 0) {
    row.llamaEvalPerTokenUs = median(evalUsBy260k);
    row.plainPerTokenUs = 1e6 / plainMedians[1];
    row.addonLoopPerTokenUs = 1e6 / median(rows.addonLoop);
    row.plainNoFaPerTokenUs = 1e6 / median(rows.plainT1NoFa);
    row.oursPerTokenUs = 1e6 / row.oursTokensPerSecond;
    row.overheadUs = {
      plainEvaluate: row.plainPerTokenUs - row.llamaEvalPerTokenUs,
      plainEvaluateNoFa: row.plainNoFaPerTokenUs - row.llamaEvalPerTokenUs,
      addonLoop: row.addonLoopPerTokenUs - row.llamaEvalPerTokenUs,
      ours: row.oursPerTokenUs - row.llamaEvalPerTokenUs,
    };
  }
  row.cpuUsPerToken = Object.fromEntries(
    Object.keys(rows.cpuUsPerToken[0]).map((k) => [k, median(rows.cpuUsPerToken.map((c) => c[k]))]),
  );
  results.push(row);
  await model.dispose();
}
await backend.dispose();
await llama.dispose();

if (values.out) writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  process.stdout.write(
    '| model | ours (threads) tok/s, median | plain node-llama-cpp at its best threads, median | ratio (medians) | ratio per repeat | plain by threads (median) |\n|---|---|---|---|---|---|\n',
  );
  for (const r of results) {
    const byThreads = Object.entries(r.plainByThreads)
      .map(([t, v]) => `t${t}: ${v.toFixed(1)}`)
      .join(', ');
    process.stdout.write(
      `| ${r.model} | ${r.oursTokensPerSecond.toFixed(1)} (${r.ourThreads}) | ${r.plainBestTokensPerSecond.toFixed(1)} (${r.plainBestThreads}) | ${r.ratio.toFixed(3)} | ${r.ratioPerRepeat.map((x) => x.toFixed(3)).join(', ')} | ${byThreads} |\n`,
    );
  }
  for (const r of results) {
    const cpu = Object.entries(r.cpuUsPerToken)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
    process.stdout.write(`\n${r.model} CPU time per token (us, median of repeats): ${cpu}`);
  }
  process.stdout.write('\n');
  for (const r of results.filter((x) => x.overheadUs)) {
    process.stdout.write(
      `\n${r.model} per token: llama.cpp eval ${r.llamaEvalPerTokenUs.toFixed(1)} us; wall: plain evaluate ${r.plainPerTokenUs.toFixed(1)} us (flash attention off: ${r.plainNoFaPerTokenUs.toFixed(1)} us), addon loop ${r.addonLoopPerTokenUs.toFixed(1)} us, ours ${r.oursPerTokenUs.toFixed(1)} us; overhead over eval: plain evaluate (flash attention off) ${r.overheadUs.plainEvaluateNoFa.toFixed(1)} us, addon loop ${r.overheadUs.addonLoop.toFixed(1)} us, ours ${r.overheadUs.ours.toFixed(1)} us\n`,
    );
  }
}
