import { BackendError } from '@slmkit/core';
import type { BenchSubject, SubjectRuntime, TimedGeneration } from '../runner/subject.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type Token = Parameters<LlamaModel['detokenize']>[0][number];

/** llama.cpp's `general.file_type` (LLAMA_FTYPE) as a weight-type name. */
const FILE_TYPES: Record<number, string> = {
  0: 'f32',
  1: 'f16',
  2: 'q4_0',
  3: 'q4_1',
  7: 'q8_0',
  8: 'q5_0',
  9: 'q5_1',
  15: 'q4_K_M',
  17: 'q5_K_M',
  18: 'q6_K',
};

function fileTypeName(value: unknown): string {
  return typeof value === 'number' ? (FILE_TYPES[value] ?? `file_type ${value}`) : 'unknown';
}

/**
 * The peer "plain node-llama-cpp": the GGUF file loaded with node-llama-cpp's own API (prebuilt binaries, CPU),
 * no slmkit code in the measured path. Prefill = `evaluateWithoutGeneratingNewTokens`; generation = the
 * `evaluate` generator at temperature 0.
 */
export class NodeLlamaCppPeer implements BenchSubject {
  readonly runtime: SubjectRuntime;
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;

  private constructor(llama: Llama, model: LlamaModel, context: LlamaContext, runtime: SubjectRuntime) {
    this.#llama = llama;
    this.#model = model;
    this.#context = context;
    this.runtime = runtime;
  }

  static async open(ggufPath: string, options: { threads?: number; contextSize: number }): Promise<NodeLlamaCppPeer> {
    let lib: NodeLlamaCpp;
    try {
      lib = await import('node-llama-cpp');
    } catch (error) {
      throw new BackendError('node-llama-cpp is not installed (add it to run this peer)', { cause: error });
    }
    const started = performance.now();
    const llama = await lib.getLlama({ build: 'never', gpu: false, logLevel: lib.LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: ggufPath });
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: 1,
      ...(options.threads ? { threads: options.threads } : {}),
    });
    const loadMs = performance.now() - started;
    return new NodeLlamaCppPeer(llama, model, context, {
      backend: 'node-llama-cpp',
      device: 'cpu',
      threads: context.currentThreads,
      weightType: fileTypeName(model.fileInfo.metadata.general.file_type),
      loadMs,
      details: { file: ggufPath, llamaCppRelease: llama.llamaCppRelease.release },
    });
  }

  encode(text: string): number[] {
    const ids = this.#model.tokenize(text) as number[];
    const bos = this.#model.tokens.bos;
    return bos === null ? ids : [bos as number, ...ids];
  }

  decode(ids: readonly number[]): string {
    return this.#model.detokenize(ids as Token[]);
  }

  async prefill(ids: readonly number[]): Promise<number> {
    const sequence = this.#context.getSequence();
    try {
      const started = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(ids as Token[]);
      return performance.now() - started;
    } finally {
      sequence.dispose();
    }
  }

  async generate(ids: readonly number[], maxTokens: number, signal?: AbortSignal): Promise<TimedGeneration> {
    const sequence = this.#context.getSequence();
    const tokens: number[] = [];
    const tokenTimesMs: number[] = [];
    try {
      const started = performance.now();
      if (maxTokens > 0) {
        for await (const token of sequence.evaluate(ids as Token[], { temperature: 0 })) {
          tokenTimesMs.push(performance.now() - started);
          tokens.push(token as number);
          if (tokens.length >= maxTokens || signal?.aborted) break;
        }
      }
    } finally {
      sequence.dispose();
    }
    return { tokens, tokenTimesMs };
  }

  async dispose(): Promise<void> {
    await this.#context.dispose();
    await this.#model.dispose();
    await this.#llama.dispose();
  }
}
