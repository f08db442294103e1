import { basename, dirname } from 'node:path';
import { BackendError } from '@slmkit/core';
import type { BenchSubject, SubjectRuntime, TimedGeneration } from '../runner/subject.js';

type Transformers = typeof import('@huggingface/transformers');

interface CausalLm {
  generate(options: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<unknown>;
}

interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skip_special_tokens?: boolean }): string;
}

/**
 * The peer "transformers.js": a Hugging Face / Optimum ONNX folder loaded with @huggingface/transformers
 * (onnxruntime-node, fp32), local files only. Generation is `model.generate` with greedy decoding and
 * `min_new_tokens` = `max_new_tokens` (end-of-sequence ignored); a streamer timestamps each new token. Prefill is
 * the time to the first token of a one-token generation (it includes sampling that token).
 */
export class TransformersJsPeer implements BenchSubject {
  readonly runtime: SubjectRuntime;
  readonly #lib: Transformers;
  readonly #model: CausalLm;
  readonly #tokenizer: HfTokenizer;

  private constructor(lib: Transformers, model: CausalLm, tokenizer: HfTokenizer, runtime: SubjectRuntime) {
    this.#lib = lib;
    this.#model = model;
    this.#tokenizer = tokenizer;
    this.runtime = runtime;
  }

  static async open(folder: string, options: { threads?: number }): Promise<TransformersJsPeer> {
    let lib: Transformers;
    try {
      lib = await import('@huggingface/transformers');
    } catch (error) {
      throw new BackendError('@huggingface/transformers is not installed (add it to run this peer)', { cause: error });
    }
    lib.env.allowRemoteModels = false;
    lib.env.allowLocalModels = true;
    lib.env.localModelPath = `${dirname(folder)}/`;
    const id = basename(folder);
    const started = performance.now();
    const sessionOptions = options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {};
    const model = (await lib.AutoModelForCausalLM.from_pretrained(id, {
      local_files_only: true,
      dtype: 'fp32',
      device: 'cpu',
      session_options: sessionOptions,
    })) as unknown as CausalLm;
    const tokenizer = (await lib.AutoTokenizer.from_pretrained(id, {
      local_files_only: true,
    })) as unknown as HfTokenizer;
    const loadMs = performance.now() - started;
    return new TransformersJsPeer(lib, model, tokenizer, {
      backend: 'transformers.js',
      device: 'cpu',
      threads: options.threads ?? 0,
      weightType: 'f32',
      loadMs,
      details: { folder, version: lib.env.version },
    });
  }

  encode(text: string): number[] {
    return this.#tokenizer.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.#tokenizer.decode(ids, { skip_special_tokens: true });
  }

  async prefill(ids: readonly number[]): Promise<number> {
    const run = await this.generate(ids, 1);
    return run.tokenTimesMs[0];
  }

  async generate(ids: readonly number[], maxTokens: number): Promise<TimedGeneration> {
    const { Tensor } = this.#lib;
    const tokens: number[] = [];
    const tokenTimesMs: number[] = [];
    let promptSeen = false;
    const started = performance.now();
    const streamer = {
      put(value: bigint[][]) {
        if (!promptSeen) {
          promptSeen = true;
          return;
        }
        const now = performance.now() - started;
        for (const id of value[0] ?? []) {
          tokens.push(Number(id));
          tokenTimesMs.push(now);
        }
      },
      end() {},
    };
    const inputIds = new Tensor('int64', BigInt64Array.from(ids.map((i) => BigInt(i))), [1, ids.length]);
    const mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    await this.#model.generate({
      input_ids: inputIds,
      attention_mask: mask,
      max_new_tokens: maxTokens,
      min_new_tokens: maxTokens,
      do_sample: false,
      streamer,
    });
    return { tokens, tokenTimesMs };
  }

  async dispose(): Promise<void> {
    await this.#model.dispose();
  }
}
