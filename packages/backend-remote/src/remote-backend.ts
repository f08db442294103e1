import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendCapabilities,
  InvalidArgumentError,
  isModelData,
  type LoadedModel,
  type LoadOptions,
  type ModelInput,
  type ModelSpec,
  NotFoundError,
  type Tokenizer,
  throwIfAborted,
} from '@slmkit/core';
import { readRemoteEnvironment } from './config.js';
import { HttpClient } from './http-client.js';
import type { ModelList, ModelListEntry } from './openai-types.js';
import { RemoteModel } from './remote-model.js';

/** Top log-probabilities asked for by default: the most OpenAI's legacy completions API allows. */
export const DEFAULT_TOP_LOGPROBS = 5;

/** Context size assumed when the server does not say. */
export const DEFAULT_REMOTE_CONTEXT_SIZE = 2048;

export interface RemoteBackendOptions {
  /** Server root, e.g. `http://127.0.0.1:8080` (routes are `/v1/...`). Default: SLMKIT_REMOTE_BASE_URL. */
  baseUrl?: string;
  /** Bearer token. Default: SLMKIT_REMOTE_API_KEY. */
  apiKey?: string;
  /**
   * The served model's tokenizer, when `load` is given only a model name (the server's tokenization is not
   * reachable synchronously, and the contract works on ids). A `{ path, tokenizerPath }` input or a ModelData input
   * brings its own.
   */
  tokenizer?: Tokenizer;
  /** Top log-probabilities asked for to rebuild logits. Default 5 (the most OpenAI's completions API allows). */
  topLogprobs?: number;
  /** Per-request timeout (ms). Default 120000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const CAPABILITIES: BackendCapabilities = {
  canTrain: false,
  quantizations: [],
  maxContext: null,
  devices: ['remote'],
  // Logits are rebuilt from top log-probabilities: only the listed entries are real.
  fullLogits: false,
  fastGeneration: true,
  embeddings: false,
};

function placeholderSpec(name: string, vocabSize: number, contextLength: number): ModelSpec {
  // The server does not describe the architecture: only the vocabulary and context are known.
  return {
    architecture: 'llama',
    name,
    vocabSize,
    dim: 0,
    nLayers: 0,
    nHeads: 0,
    nKvHeads: 0,
    ffnDim: 0,
    ropeTheta: 0,
    ropeLayout: 'adjacent',
    normEps: 0,
    contextLength,
    tiedEmbeddings: false,
    provenance: { source: name, description: 'served over an OpenAI-compatible HTTP API; architecture not reported' },
  };
}

/**
 * A Backend over any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, a hosted API, `slm serve`): `load`
 * names a served model; generation streams `/v1/completions` with token-id prompts; logits are rebuilt from top
 * log-probabilities where the server gives them.
 */
export class RemoteBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'remote';
  readonly capabilities = CAPABILITIES;
  readonly #client: HttpClient;
  readonly #options: RemoteBackendOptions;

  constructor(options: RemoteBackendOptions = {}) {
    const env = readRemoteEnvironment();
    const baseUrl = options.baseUrl ?? env.baseUrl;
    if (!baseUrl || !/^https?:\/\//.test(baseUrl)) {
      throw new InvalidArgumentError('needs an http(s) base URL (option baseUrl or SLMKIT_REMOTE_BASE_URL)', {
        field: 'baseUrl',
        value: baseUrl,
      });
    }
    this.#options = options;
    this.#client = new HttpClient({
      baseUrl,
      apiKey: options.apiKey ?? env.apiKey,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
  }

  async #tokenizerFor(input: ModelInput): Promise<{ id: string; tokenizer: Tokenizer }> {
    if (isModelData(input)) return { id: input.spec.name, tokenizer: input.tokenizer };
    const id = typeof input === 'string' ? input : input.path;
    if (typeof input === 'object' && input.tokenizerPath) {
      const { loadTokenizerFromPath } = await import('@slmkit/core/node');
      return { id, tokenizer: await loadTokenizerFromPath(input.tokenizerPath) };
    }
    if (this.#options.tokenizer) return { id, tokenizer: this.#options.tokenizer };
    throw new InvalidArgumentError(
      'the remote backend needs the served model\'s tokenizer: pass { path: "<model name>", tokenizerPath } or the tokenizer option',
      { field: 'tokenizerPath', value: id },
    );
  }

  async load(input: ModelInput, options: LoadOptions = {}): Promise<LoadedModel> {
    const started = performance.now();
    throwIfAborted(options.signal);
    const { id, tokenizer } = await this.#tokenizerFor(input);
    options.onProgress?.({ fraction: 0, stage: 'listing models' });
    const list = await this.#client.getJson<ModelList>('/v1/models', options.signal);
    const entry: ModelListEntry | undefined = list.data?.find((m) => m.id === id);
    if (!entry) {
      throw new NotFoundError(
        `the server does not serve "${id}" (it lists: ${(list.data ?? []).map((m) => m.id).join(', ') || 'nothing'})`,
        {
          file: this.#client.baseUrl,
          field: 'model',
          value: id,
        },
      );
    }
    const serverContext = entry.max_model_len ?? entry.context_length ?? entry.meta?.n_ctx_train;
    const contextSize = Math.min(
      options.contextSize ?? serverContext ?? DEFAULT_REMOTE_CONTEXT_SIZE,
      serverContext ?? Number.POSITIVE_INFINITY,
    );
    const spec = isModelData(input)
      ? input.spec
      : placeholderSpec(id, tokenizer.vocabSize, serverContext ?? contextSize);
    options.onProgress?.({ fraction: 1, stage: 'ready' });
    return new RemoteModel({
      client: this.#client,
      modelId: id,
      spec,
      tokenizer,
      contextSize,
      topLogprobs: this.#options.topLogprobs ?? DEFAULT_TOP_LOGPROBS,
      info: {
        backend: 'remote',
        device: 'remote',
        threads: 0,
        weightType: 'unknown',
        loadMs: performance.now() - started,
        details: {
          baseUrl: this.#client.baseUrl,
          model: id,
          ...(entry.meta?.n_params ? { parameters: entry.meta.n_params } : {}),
        },
      },
    });
  }

  async dispose(): Promise<void> {}
}

export function createRemoteBackend(options: RemoteBackendOptions = {}): RemoteBackend {
  return new RemoteBackend(options);
}
