import { ModelFormatError, SlmError } from '../errors/index.js';
import { expectedLlamaShapes } from '../model/weights.js';
import { GgufMetadataReader } from './gguf-metadata.js';
import { ggufSpecFromMetadata } from './gguf-spec.js';
import { GGML_MAX_NAME, GGML_TYPE_INFO, type GgufFile, GgufValueType } from './gguf-types.js';

/** Upper bounds of llama hyper-parameters slmkit hands to llama.cpp. */
export const GGUF_LLAMA_LIMITS = {
  blockCount: 512,
  embeddingLength: 65_536,
  headCount: 1024,
  feedForwardLength: 1_048_576,
  contextLength: 16_777_216,
  vocabSize: 4_000_000,
} as const;

/** `tokenizer.ggml.model` values llama.cpp knows. */
const TOKENIZER_MODELS = new Set(['no_vocab', 'llama', 'gpt2', 'bert', 't5', 'rwkv', 'ugm', 'plamo2']);

/** Keys llama.cpp reads as token ids (uint32, must index the vocabulary). */
const SPECIAL_TOKEN_KEYS = [
  'bos',
  'eos',
  'eot',
  'eom',
  'unknown',
  'seperator',
  'separator',
  'padding',
  'cls',
  'mask',
  'prefix',
  'suffix',
  'middle',
  'fim_pre',
  'fim_suf',
  'fim_mid',
  'fim_pad',
  'fim_rep',
  'fim_sep',
].map((k) => `tokenizer.ggml.${k}_token_id`);

const BYTE_TOKEN_TYPE = 6;
const STRICT_BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;
const TENSOR_LAYER = /^blk\.(\d+)\./;

function fail(file: GgufFile, key: string, message: string, value?: unknown): never {
  throw new ModelFormatError(message, { file: file.file, field: key, value });
}

function checkRange(file: GgufFile, key: string, value: number, min: number, max: number): void {
  if (!(Number.isFinite(value) && value >= min && value <= max))
    fail(file, key, `value ${value} is outside ${min}..${max}`, value);
}

/**
 * Checks the `tokenizer.ggml.*` metadata of any GGUF (model or vocab-only) the way `validateGgufForLlama` does:
 * array element types, lengths, byte tokens, duplicate texts, merges, special token ids.
 */
export function validateGgufTokenizer(file: GgufFile): void {
  validateTokenizer(file, new GgufMetadataReader(file.metadata, file.file));
}

function validateTokenizer(file: GgufFile, m: GgufMetadataReader): void {
  const model = m.string('tokenizer.ggml.model', 'no_vocab');
  if (!TOKENIZER_MODELS.has(model)) fail(file, 'tokenizer.ggml.model', `unknown tokenizer model "${model}"`, model);
  const tokens = m.array('tokenizer.ggml.tokens', GgufValueType.string) as readonly string[] | undefined;
  if (model === 'no_vocab') return;
  if (!tokens) fail(file, 'tokenizer.ggml.tokens', `tokenizer model "${model}" needs a token list`);
  const n = tokens.length;
  checkRange(file, 'tokenizer.ggml.tokens', n, 1, GGUF_LLAMA_LIMITS.vocabSize);
  const scores = m.array('tokenizer.ggml.scores', GgufValueType.float32);
  if (scores && scores.length !== n)
    fail(file, 'tokenizer.ggml.scores', `holds ${scores.length} scores for ${n} tokens`);
  const types = m.array('tokenizer.ggml.token_type', GgufValueType.int32) as readonly number[] | undefined;
  if (types && types.length !== n)
    fail(file, 'tokenizer.ggml.token_type', `holds ${types.length} types for ${n} tokens`);
  if (types) {
    for (let i = 0; i < n; i++) {
      const t = types[i];
      if (t < 0 || t > 6) fail(file, 'tokenizer.ggml.token_type', `token ${i} has unknown type ${t}`, t);
      if (t === BYTE_TOKEN_TYPE && !STRICT_BYTE_TOKEN.test(tokens[i])) {
        fail(
          file,
          'tokenizer.ggml.tokens',
          `byte token ${i} is ${JSON.stringify(tokens[i])}, expected <0xXX>`,
          tokens[i],
        );
      }
    }
  }
  // llama.cpp maps text -> id and aborts the process (GGML_ASSERT) when two tokens share a text; empty ones become
  // "[EMPTY_<id>]" first
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const text = tokens[i] === '' ? `[EMPTY_${i}]` : tokens[i];
    const previous = seen.get(text);
    if (previous !== undefined)
      fail(file, 'tokenizer.ggml.tokens', `tokens ${previous} and ${i} are both ${JSON.stringify(text)}`, text);
    seen.set(text, i);
  }
  for (let i = 0; i < n; i++) {
    const t = tokens[i];
    if (
      t.startsWith('<0x') &&
      t.endsWith('>') &&
      t.length <= 8 &&
      !STRICT_BYTE_TOKEN.test(t) &&
      types?.[i] === BYTE_TOKEN_TYPE
    ) {
      fail(file, 'tokenizer.ggml.tokens', `malformed byte token ${JSON.stringify(t)} at ${i}`, t);
    }
  }
  if (model === 'llama' && !tokens.includes('<0x0A>') && !tokens.includes('\n')) {
    // llama.cpp looks up the newline token of a SentencePiece vocabulary at load and throws when it is absent
    fail(file, 'tokenizer.ggml.tokens', 'a SentencePiece vocabulary needs a newline token (<0x0A> or "\\n")');
  }
  const merges = m.array('tokenizer.ggml.merges', GgufValueType.string) as readonly string[] | undefined;
  if (model === 'gpt2' && !merges) fail(file, 'tokenizer.ggml.merges', 'a byte-level BPE vocabulary needs merges');
  merges?.forEach((merge, i) => {
    if (merge.indexOf(' ', 1) < 1)
      fail(file, 'tokenizer.ggml.merges', `merge ${i} ${JSON.stringify(merge)} is not "a b"`, merge);
  });
  for (const key of SPECIAL_TOKEN_KEYS) {
    if (!m.has(key)) continue;
    const v = file.metadata.get(key);
    if (v?.type !== GgufValueType.uint32 && v?.type !== GgufValueType.int32) {
      fail(file, key, `has value type ${String(v?.type)}, llama.cpp reads a uint32`, v?.type);
    }
    const id = v.value;
    // -1 (int32) is how some converters write "none"; llama.cpp treats out-of-range ids as unset only for uint32
    if (id < 0 || id >= n) fail(file, key, `token id ${id} is outside the vocabulary of ${n} tokens`, id);
  }
  for (const key of [
    'tokenizer.ggml.add_bos_token',
    'tokenizer.ggml.add_eos_token',
    'tokenizer.ggml.add_space_prefix',
  ]) {
    const v = file.metadata.get(key);
    if (v !== undefined && v.type !== GgufValueType.bool)
      fail(file, key, `has value type ${v.type}, expected bool`, v.type);
  }
  for (const key of ['tokenizer.ggml.pre', 'tokenizer.chat_template']) {
    const v = file.metadata.get(key);
    if (v !== undefined && v.type !== GgufValueType.string)
      fail(file, key, `has value type ${v.type}, expected string`, v.type);
  }
}

/**
 * Checks a GGUF file that claims the `llama` architecture before it is handed to llama.cpp, which trusts much of
 * what a file says (array element types, token ids, byte tokens, hyper-parameters). Every failure is a
 * ModelFormatError naming the key or tensor at fault. Returns the spec the file describes.
 */
export function validateGgufForLlama(file: GgufFile) {
  const m = new GgufMetadataReader(file.metadata, file.file);
  for (const [key, value] of file.metadata) {
    if (value.type === GgufValueType.array && value.itemType === GgufValueType.array) {
      fail(file, key, 'arrays of arrays are not supported by llama.cpp');
    }
  }
  const arch = m.string('general.architecture');
  if (arch !== 'llama')
    fail(file, 'general.architecture', `architecture "${arch}" is not one slmkit validates (llama)`, arch);
  const intKeys: Array<[string, number, number]> = [
    ['llama.block_count', 1, GGUF_LLAMA_LIMITS.blockCount],
    ['llama.embedding_length', 1, GGUF_LLAMA_LIMITS.embeddingLength],
    ['llama.attention.head_count', 1, GGUF_LLAMA_LIMITS.headCount],
    ['llama.feed_forward_length', 1, GGUF_LLAMA_LIMITS.feedForwardLength],
    ['llama.context_length', 1, GGUF_LLAMA_LIMITS.contextLength],
  ];
  for (const [key, min, max] of intKeys) {
    const v = file.metadata.get(key);
    if (v === undefined) fail(file, key, 'required metadata key is missing');
    if (v.type !== GgufValueType.uint32 && v.type !== GgufValueType.int32)
      fail(file, key, `has value type ${v.type}, llama.cpp reads a uint32`, v.type);
    checkRange(file, key, v.value, min, max);
  }
  for (const key of ['llama.attention.head_count_kv', 'llama.rope.dimension_count', 'llama.vocab_size']) {
    const v = file.metadata.get(key);
    if (v !== undefined && v.type !== GgufValueType.uint32 && v.type !== GgufValueType.int32) {
      fail(file, key, `has value type ${v.type}, llama.cpp reads a uint32`, v.type);
    }
  }
  for (const key of ['llama.attention.layer_norm_rms_epsilon', 'llama.rope.freq_base']) {
    const v = file.metadata.get(key);
    if (v !== undefined && v.type !== GgufValueType.float32)
      fail(file, key, `has value type ${v.type}, llama.cpp reads a float32`, v.type);
  }
  let spec: ReturnType<typeof ggufSpecFromMetadata>;
  try {
    spec = ggufSpecFromMetadata(file.metadata, file.tensors, file.file);
  } catch (error) {
    if (SlmError.isInstance(error))
      throw new ModelFormatError(error.message, { file: file.file, field: error.field, cause: error });
    throw error;
  }
  if (spec.dim % spec.nHeads !== 0)
    fail(file, 'llama.attention.head_count', `${spec.nHeads} heads do not divide the width ${spec.dim}`);
  if (spec.nKvHeads < 1 || spec.nHeads % spec.nKvHeads !== 0) {
    fail(
      file,
      'llama.attention.head_count_kv',
      `${spec.nKvHeads} KV heads do not divide ${spec.nHeads} heads`,
      spec.nKvHeads,
    );
  }
  if ((spec.dim / spec.nHeads) % 2 !== 0)
    fail(file, 'llama.attention.head_count', 'head dimension must be even for RoPE');
  checkRange(file, 'llama.vocab_size', spec.vocabSize, 1, GGUF_LLAMA_LIMITS.vocabSize);
  if (!(spec.normEps > 0 && spec.normEps < 1))
    fail(file, 'llama.attention.layer_norm_rms_epsilon', `epsilon ${spec.normEps} is outside (0, 1)`, spec.normEps);
  if (!(spec.ropeTheta > 0 && Number.isFinite(spec.ropeTheta)))
    fail(file, 'llama.rope.freq_base', `rope base ${spec.ropeTheta} must be finite and positive`, spec.ropeTheta);

  const expected = expectedLlamaShapes(spec);
  const infos = new Map(file.tensors.map((t) => [t.name, t]));
  for (const t of file.tensors) {
    if (new TextEncoder().encode(t.name).length >= GGML_MAX_NAME)
      fail(file, t.name, `tensor name is ${GGML_MAX_NAME} bytes or longer`);
    const layer = TENSOR_LAYER.exec(t.name);
    if (layer && Number(layer[1]) >= spec.nLayers) {
      fail(
        file,
        'llama.block_count',
        `tensor ${t.name} belongs to layer ${layer[1]}, the file declares ${spec.nLayers} blocks`,
        spec.nLayers,
      );
    }
    if (!GGML_TYPE_INFO[t.ggmlType]) fail(file, t.name, `unknown ggml type ${t.ggmlType}`);
  }
  for (const [name, shape] of expected) {
    const info = infos.get(name);
    if (!info) fail(file, name, 'tensor is missing');
    const same = info.shape.length === shape.length && info.shape.every((d, i) => d === shape[i]);
    if (!same)
      fail(file, name, `has shape [${info.shape.join(', ')}], the hyper-parameters need [${shape.join(', ')}]`);
  }
  validateTokenizer(file, m);
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  if (tokens?.type === GgufValueType.array && (tokens.value as unknown[]).length !== spec.vocabSize) {
    fail(
      file,
      'tokenizer.ggml.tokens',
      `holds ${(tokens.value as unknown[]).length} tokens, the model has ${spec.vocabSize}`,
    );
  }
  return spec;
}
