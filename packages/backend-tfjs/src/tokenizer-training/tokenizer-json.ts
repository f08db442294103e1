/** Builds Hugging Face `tokenizer.json` / `tokenizer_config.json` documents for a trained BPE vocabulary. */

export type TrainedTokenizerKind = 'byte-level' | 'spm';

export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The subset of the `tokenizer.json` schema that the trainer writes. */
export interface HfTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: Record<string, unknown> | null;
  pre_tokenizer: Record<string, unknown> | null;
  post_processor: Record<string, unknown> | null;
  decoder: Record<string, unknown>;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string | null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: string[];
  };
}

export interface TokenizerJsonInput {
  kind: TrainedTokenizerKind;
  /** Every token string by id. */
  tokens: readonly string[];
  /** Merges in rank order, as pairs of token strings. */
  merges: ReadonlyArray<readonly [string, string]>;
  /** Special tokens; they hold ids 0..n-1. */
  specialTokens: readonly string[];
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  padToken?: string;
  addBos: boolean;
  addEos: boolean;
  modelMaxLength: number;
}

function templateProcessor(input: TokenizerJsonInput, idOf: (t: string) => number): Record<string, unknown> | null {
  const prefix = input.addBos && input.bosToken !== undefined ? [input.bosToken] : [];
  const suffix = input.addEos && input.eosToken !== undefined ? [input.eosToken] : [];
  if (prefix.length === 0 && suffix.length === 0) return null;
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const side = (typeId: number, seqId: string) => [
    ...prefix.map((t) => special(t, typeId)),
    seq(seqId, typeId),
    ...suffix.map((t) => special(t, typeId)),
  ];
  const specialTokens: Record<string, unknown> = {};
  for (const t of [...prefix, ...suffix]) specialTokens[t] = { id: t, ids: [idOf(t)], tokens: [t] };
  return {
    type: 'TemplateProcessing',
    single: side(0, 'A'),
    pair: [...side(0, 'A'), ...side(1, 'B')],
    special_tokens: specialTokens,
  };
}

export function buildTokenizerJson(input: TokenizerJsonInput): HfTokenizerJson {
  const vocab: Record<string, number> = {};
  input.tokens.forEach((token, id) => {
    vocab[token] = id;
  });
  const idOf = (t: string) => vocab[t];
  const addedTokens: HfAddedToken[] = input.specialTokens.map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const merges = input.merges.map(([a, b]) => `${a} ${b}`);
  const template = templateProcessor(input, idOf);
  if (input.kind === 'byte-level') {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: template ?? { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges,
      },
    };
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '\u2581' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    post_processor: template,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: input.unkToken ?? null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** `tokenizer_config.json`, as transformers writes it for a fast tokenizer. */
export function buildTokenizerConfig(
  input: TokenizerJsonInput,
  tokenizerJson: HfTokenizerJson,
): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of tokenizerJson.added_tokens) {
    const { id, ...rest } = t;
    decoder[String(id)] = rest;
  }
  const config: Record<string, unknown> = {
    add_bos_token: input.addBos,
    add_eos_token: input.addEos,
    added_tokens_decoder: decoder,
    clean_up_tokenization_spaces: false,
    model_max_length: input.modelMaxLength,
    // The generic class: loaders then follow tokenizer.json exactly (Llama classes re-interpret `legacy` spacing).
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  if (input.bosToken !== undefined) config.bos_token = input.bosToken;
  if (input.eosToken !== undefined) config.eos_token = input.eosToken;
  if (input.unkToken !== undefined) config.unk_token = input.unkToken;
  if (input.padToken !== undefined) config.pad_token = input.padToken;
  return config;
}
