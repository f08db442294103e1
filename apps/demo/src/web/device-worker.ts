/// <reference lib="webworker" />
// Runs the model inside the page (a Web Worker, so the UI stays responsive). Runtimes: the demo's `tinyjs` forward
// (tiny llama2.c models: a plain JS loop beats a general runtime, whose per-call overhead dominates),
// `onnxruntime-web` via @slmkit/backend-onnx's browser entry (HF ONNX folders, and llama2.c checkpoints exported to
// ONNX in memory; loaded on first use only), or core's reference backend. Nothing leaves the page: it only downloads
// the model files and onnxruntime-web's WASM files from the server that served it.
import {
  type Backend,
  ChatSession,
  generate,
  type LoadedModel,
  readLlama2cCheckpoint,
  readLlama2cTokenizer,
} from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';
import type { DeviceModelEntry } from '../device/device-model-entry.js';
import { createTinyLlamaBackend } from '../device/tiny-llama-backend.js';
import type { FromWorker, ToWorker } from './device-protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let backend: Backend | undefined;
let model: LoadedModel | undefined;
let session: ChatSession | undefined;
let answering: AbortController | undefined;
let pending: ToWorker[] = [];

function post(message: FromWorker): void {
  scope.postMessage(message);
}

/** A macrotask turn (faster than setTimeout's clamp): lets `stop` messages in during a synchronous decode loop. */
const channel = new MessageChannel();
const waiters: (() => void)[] = [];
channel.port1.onmessage = () => waiters.shift()?.();
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    channel.port2.postMessage(0);
  });
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

type LoadMessage = Extract<ToWorker, { type: 'load' }>;

/** Where a relative URL of the server (`/models/…`) points, from inside the worker. */
function absolute(url: string): string {
  return new URL(url, self.location.origin).href;
}

/** onnxruntime-web's external-data files for the ONNX file the backend will pick (mirrors its candidate order). */
function externalDataFor(
  entry: DeviceModelEntry,
  candidates: Record<'fp32' | 'int8', readonly string[]>,
  dtype: 'auto' | 'fp32' | 'int8',
): { path: string; data: string }[] {
  const order = dtype === 'auto' ? [...candidates.fp32, ...candidates.int8] : [...candidates[dtype]];
  const chosen = order.find((name) => entry.onnxFiles?.[name] !== undefined);
  const info = chosen ? entry.onnxFiles?.[chosen] : undefined;
  if (!chosen || !info?.externalData) return [];
  const dir = chosen.includes('/') ? chosen.slice(0, chosen.lastIndexOf('/') + 1) : '';
  return info.externalData.map((name) => ({ path: name, data: absolute(entry.files[`${dir}${name}`] ?? '') }));
}

async function createOrtBackend(message: LoadMessage): Promise<Backend> {
  if (!message.ort) throw new Error('onnxruntime-web needs its settings (the server offers no WASM files?)');
  post({ type: 'status', text: 'loading onnxruntime-web…' });
  const ort = await import('@slmkit/backend-onnx/browser');
  ort.setOrtWasmPaths(message.ort.wasmPaths);
  const externalData =
    message.model.format === 'onnx' ? externalDataFor(message.model, ort.ONNX_CANDIDATES, message.ort.dtype) : [];
  return ort.createOnnxBackend({
    threads: message.ort.threads,
    dtype: message.model.format === 'onnx' ? message.ort.dtype : 'fp32',
    ...(externalData.length > 0 ? { sessionOptions: { externalData } } : {}),
  });
}

async function loadModel(message: LoadMessage, next: Backend): Promise<{ model: LoadedModel; bytes: number }> {
  const entry = message.model;
  if (entry.format === 'onnx') {
    if (message.runtime !== 'onnxruntime-web') {
      throw new Error(`${message.runtime} runs llama2.c checkpoints only; ${entry.id} is an ONNX folder`);
    }
    post({ type: 'status', text: `downloading ${entry.id} into onnxruntime-web…` });
    return { model: await next.load(absolute(entry.files.folder ?? '')), bytes: entry.bytes };
  }
  post({ type: 'status', text: `downloading ${entry.id}…` });
  const [modelBytes, tokenizerBytes] = await Promise.all([
    fetchBytes(entry.files.model ?? ''),
    fetchBytes(entry.files.tokenizer ?? ''),
  ]);
  post({ type: 'status', text: message.runtime === 'onnxruntime-web' ? 'exporting to ONNX…' : 'loading…' });
  const { spec, weights } = readLlama2cCheckpoint(modelBytes, entry.files.model);
  const tokenizer = readLlama2cTokenizer(tokenizerBytes, { vocabSize: spec.vocabSize, file: entry.files.tokenizer });
  return {
    model: await next.load({ spec: { ...spec, name: entry.id }, weights, tokenizer }),
    bytes: modelBytes.byteLength,
  };
}

async function load(message: LoadMessage): Promise<void> {
  await session?.dispose();
  await model?.dispose();
  await backend?.dispose();
  session = undefined;
  model = undefined;
  backend = undefined;
  const next =
    message.runtime === 'onnxruntime-web'
      ? await createOrtBackend(message)
      : message.runtime === 'reference'
        ? createReferenceBackend()
        : createTinyLlamaBackend();
  let loaded: { model: LoadedModel; bytes: number };
  try {
    loaded = await loadModel(message, next);
    backend = next;
    model = loaded.model;
  } catch (error) {
    await next.dispose();
    throw error;
  }
  session = await ChatSession.create({ model });
  const info = model.info;
  const details =
    message.runtime === 'onnxruntime-web'
      ? `${String(info.details?.runtime ?? 'onnxruntime-web')} ${String(info.details?.runtimeVersion ?? '')}, ${info.threads ?? 1} thread(s), ${info.weightType ?? ''} weights`
      : `${next.name}`;
  post({ type: 'loaded', backend: next.name, contextLength: model.contextSize, modelBytes: loaded.bytes, details });
}

async function send(message: Extract<ToWorker, { type: 'send' }>): Promise<void> {
  if (!session || !model) throw new Error('no model is loaded');
  session.setSystemPrompt(message.system || undefined);
  answering = new AbortController();
  const options = { maxTokens: message.maxTokens, temperature: message.temperature, signal: answering.signal };
  // A chat turn (the model's template, the conversation kept in the KV cache), or a plain completion of the text.
  const parts = message.raw
    ? generate({ model, prompt: message.text, ...options })
    : session.send(message.text, options);
  let batch = '';
  let tokens = 0;
  let first = 0;
  let lastYield = performance.now();
  let leading = !message.raw; // a chat answer starts at its first visible character; a completion is kept as is
  const flush = () => {
    if (batch.length === 0) return;
    const elapsed = performance.now() - first;
    post({ type: 'delta', text: batch, tokens, tokensPerSecond: elapsed > 0 ? ((tokens - 1) * 1000) / elapsed : 0 });
    batch = '';
  };
  try {
    for await (const part of parts) {
      if (part.type === 'token') {
        if (tokens === 0) first = performance.now();
        tokens++;
        // Every ~16 ms: send the text so far and take messages (a `stop`) without slowing the loop per token.
        if (performance.now() - lastYield > 16) {
          flush();
          await yieldToEventLoop();
          lastYield = performance.now();
          drain();
        }
      } else if (part.type === 'text-delta') {
        const piece = leading ? part.text.trimStart() : part.text;
        if (piece.length > 0) leading = false;
        batch += piece;
      } else if (part.type === 'finish') {
        flush();
        post({
          type: 'finish',
          completionTokens: part.usage.completionTokens,
          promptTokens: part.usage.promptTokens,
          cachedPromptTokens: part.usage.cachedPromptTokens,
          tokensPerSecond: part.timings.decodeTokensPerSecond,
          finishReason: part.finishReason,
        });
      }
    }
  } finally {
    answering = undefined;
  }
}

async function bench(message: Extract<ToWorker, { type: 'bench' }>): Promise<void> {
  if (!model) throw new Error('no model is loaded');
  const rates: number[] = [];
  for (let run = 0; run < message.runs; run++) {
    await yieldToEventLoop();
    for await (const part of generate({
      model,
      prompt: 'Once upon a time',
      maxTokens: message.tokens,
      temperature: 0,
      stopTokens: [], // a fixed number of tokens: EOS does not end the run
    })) {
      if (part.type === 'finish') rates.push(part.timings.decodeTokensPerSecond);
    }
  }
  post({ type: 'bench', tokensPerSecond: rates });
}

/** Handles the messages that may arrive while an answer is being generated. */
function drain(): void {
  const rest: ToWorker[] = [];
  for (const m of pending) {
    if (m.type === 'stop') answering?.abort();
    else rest.push(m);
  }
  pending = rest;
}

let busy = false;
async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    while (pending.length > 0) {
      const message = pending.shift() as ToWorker;
      try {
        if (message.type === 'load') await load(message);
        else if (message.type === 'send') await send(message);
        else if (message.type === 'reset') session?.reset();
        else if (message.type === 'bench') await bench(message);
      } catch (error) {
        post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    }
  } finally {
    busy = false;
  }
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  if (event.data.type === 'stop') {
    answering?.abort();
    return;
  }
  pending.push(event.data);
  void pump();
};
