/// <reference lib="webworker" />
// Runs the model inside the page (a Web Worker, so the UI stays responsive) on plain-JavaScript runtimes: the demo's
// `tinyjs` forward (default) or core's reference backend. For a model as small as stories260K a plain JS loop beats a
// general runtime, whose per-call overhead dominates (onnxruntime-web does ~290 tokens/s here). Nothing leaves the
// page but the download of the model files.
import { ChatSession, generate, type LoadedModel, readLlama2cCheckpoint, readLlama2cTokenizer } from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';
import { createTinyLlamaBackend } from '../device/tiny-llama-backend.js';
import type { FromWorker, ToWorker } from './device-protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
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

async function load(message: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  post({ type: 'status', text: `downloading ${message.id}…` });
  const [modelBytes, tokenizerBytes] = await Promise.all([
    fetchBytes(message.modelUrl),
    fetchBytes(message.tokenizerUrl),
  ]);
  post({ type: 'status', text: 'loading…' });
  const { spec, weights } = readLlama2cCheckpoint(modelBytes, message.modelUrl);
  const tokenizer = readLlama2cTokenizer(tokenizerBytes, { vocabSize: spec.vocabSize, file: message.tokenizerUrl });
  await session?.dispose();
  await model?.dispose();
  const backend = message.backend === 'reference' ? createReferenceBackend() : createTinyLlamaBackend();
  model = await backend.load({ spec: { ...spec, name: message.id }, weights, tokenizer });
  session = await ChatSession.create({ model });
  post({ type: 'loaded', backend: backend.name, contextLength: model.contextSize, modelBytes: modelBytes.byteLength });
}

async function send(message: Extract<ToWorker, { type: 'send' }>): Promise<void> {
  if (!session) throw new Error('no model is loaded');
  session.setSystemPrompt(message.system || undefined);
  answering = new AbortController();
  let batch = '';
  let tokens = 0;
  let first = 0;
  let lastYield = performance.now();
  let leading = true;
  const flush = () => {
    if (batch.length === 0) return;
    const elapsed = performance.now() - first;
    post({ type: 'delta', text: batch, tokens, tokensPerSecond: elapsed > 0 ? ((tokens - 1) * 1000) / elapsed : 0 });
    batch = '';
  };
  try {
    for await (const part of session.send(message.text, {
      maxTokens: message.maxTokens,
      temperature: message.temperature,
      signal: answering.signal,
    })) {
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
