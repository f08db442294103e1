/** The parts of OpenAI's legacy completions API (and common server extensions) the remote backend reads. */
export interface CompletionLogprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  /** One map per token: token text -> log-probability (null for the first echoed prompt token). */
  top_logprobs?: (Record<string, number> | null)[];
}

export interface CompletionChoice {
  text: string;
  index?: number;
  logprobs?: CompletionLogprobs | null;
  finish_reason?: string | null;
  /** llama.cpp server extension (`return_tokens: true`): the ids of the tokens in `text`. */
  tokens?: number[];
}

export interface CompletionResponse {
  choices: CompletionChoice[];
  /** llama.cpp server puts `tokens` here in some versions. */
  tokens?: number[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export interface ModelListEntry {
  id: string;
  /** vLLM */
  max_model_len?: number;
  /** some servers */
  context_length?: number;
  /** llama.cpp server */
  meta?: { n_ctx_train?: number; n_vocab?: number; n_params?: number; size?: number };
}

export interface ModelList {
  data: ModelListEntry[];
}
