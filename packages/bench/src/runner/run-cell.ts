import { AbortError, throwIfAborted } from '@slmkit/core';
import { distribution, mean } from '../metrics/stats.js';
import { fillPlaceholders, runCommandOnce } from '../peers/command-peer.js';
import type { Cell } from '../suite/suite-types.js';
import { runClassifyCell } from './classify-cell.js';
import { openSubject } from './open-subject.js';
import { repeat } from './repetitions.js';
import type { CellResult } from './result-types.js';
import { runChoice, runGenerate, runPerplexity, runSpeed, type ScenarioOutput } from './scenarios.js';

export type CellOutcome = Omit<CellResult, 'suite' | 'wallMs'>;

function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

async function runCommandCell(cell: Cell, signal?: AbortSignal): Promise<ScenarioOutput> {
  const { backend, model, scenario, settings } = cell;
  if (backend.kind !== 'command' || scenario.type !== 'speed')
    throw new Error('command peers run speed scenarios only');
  const promptTokens = scenario.promptTokens?.[0] ?? 64;
  const outputTokens = scenario.outputTokens ?? 32;
  const argv = fillPlaceholders(backend.command, {
    model: model.path,
    gguf: model.gguf,
    onnx: model.onnx,
    tokenizer: model.tokenizer,
    prompt_tokens: promptTokens,
    output_tokens: outputTokens,
    threads: settings.threads,
    seed: settings.seed,
  });
  const runs = await repeat(
    settings,
    async () => {
      const run = await runCommandOnce(argv, { cwd: backend.cwd, signal });
      return { ms: run.wallMs, value: run };
    },
    signal,
  );
  const metrics: Record<string, number> = { wall_ms: mean(runs.map((r) => r.wallMs)), repetitions: runs.length };
  for (const key of Object.keys(runs[0].reported)) {
    const values = runs.map((r) => r.reported[key]).filter((v) => v !== undefined);
    if (values.length > 0) metrics[key] = mean(values);
  }
  return { metrics, distributions: { wall_ms: distribution(runs.map((r) => r.wallMs)) } };
}

/** Runs one cell in this process (the worker child): load, the scenario, peak RSS. Never throws. */
export async function runCell(cell: Cell, signal?: AbortSignal): Promise<CellOutcome> {
  const base = {
    model: cell.model.id,
    backend: cell.backend.id,
    scenario: cell.scenario.id,
    scenarioType: cell.scenario.type,
  };
  const role = cell.model.role ?? 'slm';
  const distilledFrom = cell.model.distilledFrom;
  try {
    throwIfAborted(signal);
    if (cell.scenario.type === 'classify') {
      const run = await runClassifyCell(cell, signal);
      const { output } = run;
      output.metrics.load_ms = run.runtime.loadMs;
      output.metrics.peak_rss_bytes = peakRssBytes();
      if (run.parameters !== undefined) output.metrics.parameters = run.parameters;
      if (run.fileBytes !== undefined) output.metrics.model_bytes = run.fileBytes;
      return {
        ...base,
        status: 'ok',
        runtime: run.runtime,
        model_info: {
          role,
          parameters: run.parameters,
          fileBytes: run.fileBytes,
          ...(distilledFrom && cell.backend.kind !== 'lexicon' ? { distilledFrom } : {}),
        },
        ...output,
      };
    }
    if (cell.backend.kind === 'command') {
      const output = await runCommandCell(cell, signal);
      output.metrics.peak_rss_bytes = peakRssBytes();
      return { ...base, status: 'ok', model_info: { role }, ...output };
    }
    const opened = await openSubject(cell, signal);
    const { subject } = opened;
    try {
      let output: ScenarioOutput;
      const s = cell.scenario;
      if (s.type === 'speed') output = await runSpeed(subject, s, cell.settings, signal);
      else if (s.type === 'perplexity') output = await runPerplexity(subject, s, signal);
      else if (s.type === 'choice') output = await runChoice(subject, s, signal);
      else if (s.type === 'generate') output = await runGenerate(subject, s, signal);
      else throw new Error('classify cells are run by runClassifyCell');
      output.metrics.load_ms = subject.runtime.loadMs;
      output.metrics.peak_rss_bytes = peakRssBytes();
      const accelerator = await subject.acceleratorBytes?.();
      if (accelerator !== undefined) output.metrics.accelerator_bytes = accelerator;
      if (opened.parameters !== undefined) output.metrics.parameters = opened.parameters;
      if (opened.fileBytes !== undefined) output.metrics.model_bytes = opened.fileBytes;
      return {
        ...base,
        status: 'ok',
        runtime: subject.runtime,
        model_info: {
          role,
          parameters: opened.parameters,
          fileBytes: opened.fileBytes,
          generated: cell.model.random !== undefined,
        },
        ...output,
      };
    } finally {
      await subject.dispose();
    }
  } catch (error) {
    if (AbortError.isInstance(error)) throw error;
    return {
      ...base,
      status: 'failed',
      error: describe(error),
      metrics: { peak_rss_bytes: peakRssBytes() },
      model_info: { role },
    };
  }
}
