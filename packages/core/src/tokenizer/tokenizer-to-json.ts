import { UnsupportedFeatureError } from '../errors/index.js';
import { llamaCppPreTokenizer } from './llama-cpp-pre.js';
import { PipelineTokenizer } from './pipeline-tokenizer.js';
import { SpmTokenizer } from './spm-tokenizer.js';
import { TokenType } from './token-type.js';
import type { Tokenizer } from './tokenizer.js';

const SPACE_MARK = '\u2581';

/** Hugging Face files for a tokenizer: `tokenizer.json` and `tokenizer_config.json` contents. */
export interface TokenizerJsonFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

function addedToken(id: number, content: string, special: boolean) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

function template(tokenizer: Tokenizer, prefix: readonly number[], suffix: readonly number[]) {
  const single: unknown[] = [];
  const specialTokens: Record<string, unknown> = {};
  const add = (id: number) => {
    const name = tokenizer.idToToken(id) ?? `<${id}>`;
    single.push({ SpecialToken: { id: name, type_id: 0 } });
    specialTokens[name] = { id: name, ids: [id], tokens: [name] };
  };
  prefix.forEach(add);
  single.push({ Sequence: { id: 'A', type_id: 0 } });
  suffix.forEach(add);
  return { type: 'TemplateProcessing', single, pair: single, special_tokens: specialTokens };
}

function config(tokenizer: Tokenizer, cls: string): Record<string, unknown> {
  const name = (id: number | undefined) => (id === undefined ? null : (tokenizer.idToToken(id) ?? null));
  const out: Record<string, unknown> = {
    add_bos_token: tokenizer.addBos,
    add_eos_token: tokenizer.addEos,
    bos_token: name(tokenizer.special.bos),
    eos_token: name(tokenizer.special.eos),
    unk_token: name(tokenizer.special.unk),
    clean_up_tokenization_spaces: false,
    tokenizer_class: cls,
  };
  if (tokenizer.special.pad !== undefined) out.pad_token = name(tokenizer.special.pad);
  if (tokenizer.special.sep !== undefined) out.sep_token = name(tokenizer.special.sep);
  if (tokenizer.special.cls !== undefined) out.cls_token = name(tokenizer.special.cls);
  if (tokenizer.special.mask !== undefined) out.mask_token = name(tokenizer.special.mask);
  if (tokenizer.chatTemplate !== undefined) out.chat_template = tokenizer.chatTemplate;
  return out;
}

/** SentencePiece scores -> BPE merges, as transformers' SentencePieceExtractor derives them. */
function spmMerges(tokenizer: SpmTokenizer): string[] {
  const vocab = new Map<string, number>();
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const piece = tokenizer.idToToken(id) as string;
    if (!vocab.has(piece)) vocab.set(piece, id);
  }
  const merges: Array<{ left: string; right: string; score: number; l: number; r: number; order: number }> = [];
  let order = 0;
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    if (tokenizer.tokenType(id) !== TokenType.normal) continue;
    const piece = tokenizer.idToToken(id) as string;
    const chars = Array.from(piece);
    const local: typeof merges = [];
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join('');
      const right = chars.slice(k).join('');
      const l = vocab.get(left);
      const r = vocab.get(right);
      if (l !== undefined && r !== undefined) local.push({ left, right, score: tokenizer.score(id), l, r, order: 0 });
    }
    local.sort((a, b) => a.l - b.l || a.r - b.r);
    for (const m of local) merges.push({ ...m, order: order++ });
  }
  merges.sort((a, b) => b.score - a.score || a.order - b.order);
  return merges.map((m) => `${m.left} ${m.right}`);
}

function fromSpm(tokenizer: SpmTokenizer): TokenizerJsonFiles {
  const vocab: Record<string, number> = {};
  const added: unknown[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const piece = tokenizer.idToToken(id) as string;
    if (!(piece in vocab)) vocab[piece] = id;
    const type = tokenizer.tokenType(id);
    if (type === TokenType.control || type === TokenType.userDefined || type === TokenType.unknown) {
      added.push(addedToken(id, piece, type !== TokenType.userDefined));
    }
  }
  const normalizers: unknown[] = [];
  if (tokenizer.addSpacePrefix) normalizers.push({ type: 'Prepend', prepend: SPACE_MARK });
  normalizers.push({ type: 'Replace', pattern: { String: ' ' }, content: SPACE_MARK });
  const decoders: unknown[] = [
    { type: 'Replace', pattern: { String: SPACE_MARK }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
  ];
  if (tokenizer.addSpacePrefix) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  const prefix = tokenizer.addBos && tokenizer.special.bos !== undefined ? [tokenizer.special.bos] : [];
  const suffix = tokenizer.addEos && tokenizer.special.eos !== undefined ? [tokenizer.special.eos] : [];
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: { type: 'Sequence', normalizers },
      pre_tokenizer: null,
      post_processor: template(tokenizer, prefix, suffix),
      decoder: { type: 'Sequence', decoders },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: tokenizer.special.unk === undefined ? null : tokenizer.idToToken(tokenizer.special.unk),
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab,
        merges: spmMerges(tokenizer),
      },
    },
    tokenizerConfig: { ...config(tokenizer, 'LlamaTokenizer'), legacy: true },
  };
}

function vocabObject(
  tokenizer: Tokenizer,
  map: (token: string, id: number) => string = (t) => t,
): Record<string, number> {
  const vocab: Record<string, number> = {};
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const t = tokenizer.idToToken(id);
    if (t === undefined) continue;
    const key = map(t, id);
    if (!(key in vocab)) vocab[key] = id;
  }
  return vocab;
}

function fromPipeline(tokenizer: PipelineTokenizer): TokenizerJsonFiles {
  const origin = tokenizer.origin;
  if (origin.format === 'tokenizer.json') {
    return {
      tokenizerJson: structuredClone(origin.tokenizerJson) as Record<string, unknown>,
      tokenizerConfig: structuredClone(origin.tokenizerConfig) as Record<string, unknown>,
    };
  }
  const added = tokenizer.addedTokens.map((t) => addedToken(t.id, t.text, t.special));
  if (origin.format === 'gguf-bpe') {
    const preset = llamaCppPreTokenizer(origin.pre);
    const splits = (preset?.patterns ?? []).map((p) => ({
      type: 'Split',
      pattern: { Regex: p },
      behavior: 'Isolated',
      invert: false,
    }));
    return {
      tokenizerJson: {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: added,
        normalizer: null,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            ...splits,
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
        post_processor: template(tokenizer, tokenizer.prefixIds, tokenizer.suffixIds),
        decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        model: {
          type: 'BPE',
          dropout: null,
          unk_token: null,
          continuing_subword_prefix: null,
          end_of_word_suffix: null,
          fuse_unk: false,
          byte_fallback: false,
          ignore_merges: preset?.ignoreMerges ?? false,
          vocab: vocabObject(tokenizer),
          merges: origin.merges.map(([a, b]) => `${a} ${b}`),
        },
      },
      tokenizerConfig: config(tokenizer, 'PreTrainedTokenizerFast'),
    };
  }
  // gguf-wpm: llama.cpp's `▁word` / `piece` convention back to BERT's `word` / `##piece`.
  const vocab = vocabObject(tokenizer, (t) =>
    t.startsWith(SPACE_MARK) ? t.slice(1) : t.startsWith('[') && t.endsWith(']') ? t : `##${t}`,
  );
  const unk = tokenizer.special.unk === undefined ? '[UNK]' : (tokenizer.idToToken(tokenizer.special.unk) ?? '[UNK]');
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: true,
        lowercase: true,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: template(tokenizer, tokenizer.prefixIds, tokenizer.suffixIds),
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: unk,
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab,
      },
    },
    tokenizerConfig: config(tokenizer, 'BertTokenizer'),
  };
}

/**
 * Serialises a tokenizer in Hugging Face form, so transformers.js and @huggingface/tokenizers load it and give the
 * same ids: SentencePiece-style -> BPE with byte fallback and a `▁` normaliser; byte-level BPE -> ByteLevel with
 * llama.cpp's pre-tokenizer regexes as Split steps; WordPiece -> BERT. Tokenizers read from tokenizer.json come
 * back as they were read.
 */
export function tokenizerToJson(tokenizer: Tokenizer): TokenizerJsonFiles {
  if (tokenizer instanceof SpmTokenizer) return fromSpm(tokenizer);
  if (tokenizer instanceof PipelineTokenizer) return fromPipeline(tokenizer);
  throw new UnsupportedFeatureError(`cannot serialise a ${tokenizer.kind} tokenizer of this class to tokenizer.json`, {
    field: 'tokenizer',
  });
}
