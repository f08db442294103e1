import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { generateText } from '../generation/generate.js';
import { convertRopeLayout } from '../model/rope-layout.js';
import { tensorToFloat32 } from '../model/tensor.js';
import { goldenContinuations } from '../testing/goldens.js';
import { createRandomModel } from '../testing/random-model.js';
import { createReferenceBackend } from '../testing/reference-backend.js';
import { SHARED_MISSING_REASON, sharedPath, stories260KPaths } from '../testing/shared-data.js';
import { ggufToModelData, modelDataToGguf } from './gguf-llama.js';
import { readGguf } from './gguf-reader.js';
import { spmGgufMetadata, testGgufTokenizerOptions } from './gguf-test-fixtures.js';
import { type GgufValue, GgufValueType } from './gguf-types.js';
import { validateGgufForLlama, validateGgufTokenizer } from './gguf-validate.js';
import { writeGguf } from './gguf-writer.js';
import { readLlama2cCheckpoint, readLlama2cTokenizer } from './llama2c.js';

const T = GgufValueType;

function writeModel(
  options: Parameters<typeof modelDataToGguf>[1] = {},
  model = createRandomModel({ tiedEmbeddings: false }),
) {
  const { metadata, tensors } = modelDataToGguf(model, { ...testGgufTokenizerOptions(), ...options });
  return { bytes: writeGguf({ metadata, tensors }), model, metadata, tensors };
}

describe('GGUF <-> ModelData (llama)', () => {
  it('writes llama.* hyper-parameters and reads the same spec and weights back', async () => {
    const { bytes, model } = writeModel();
    const file = readGguf(bytes, 'model.gguf');
    const m = file.metadata;
    expect(m.get('general.architecture')).toEqual({ type: T.string, value: 'llama' });
    expect(m.get('llama.block_count')).toEqual({ type: T.uint32, value: 2 });
    expect(m.get('llama.attention.head_count_kv')).toEqual({ type: T.uint32, value: 2 });
    expect(m.get('llama.rope.dimension_count')).toEqual({ type: T.uint32, value: 8 });
    expect(m.get('general.file_type')).toEqual({ type: T.uint32, value: 0 });
    const back = await ggufToModelData(file, { tokenizer: model.tokenizer });
    const { provenance: _a, ...spec } = back.spec;
    const { provenance: _b, ...original } = model.spec;
    expect(spec).toEqual({ ...original, normEps: Math.fround(1e-5) });
    for (const t of model.weights) {
      expect(Buffer.from(back.weights.get(t.name).data).equals(Buffer.from(t.data)), t.name).toBe(true);
    }
  });

  it('omits a tied classifier and keeps norms f32 when quantising to q8_0 (f16 where rows are not whole blocks)', () => {
    const model = createRandomModel({ tiedEmbeddings: true, ffnDim: 80 });
    const { bytes } = writeModel({ quantize: 'q8_0' }, model);
    const file = readGguf(bytes);
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    expect(byName.has('output.weight')).toBe(false);
    expect(byName.get('blk.0.attn_norm.weight')?.dtype).toBe('f32');
    expect(byName.get('blk.0.attn_q.weight')?.dtype).toBe('q8_0');
    expect(byName.get('blk.0.ffn_down.weight')?.dtype).toBe('f16'); // row of 80
    expect(file.metadata.get('general.file_type')).toEqual({ type: T.uint32, value: 7 });
    const q = tensorToFloat32(file.readTensor('blk.0.attn_q.weight'));
    const original = model.weights.float32('blk.0.attn_q.weight');
    let maxError = 0;
    for (let i = 0; i < q.length; i++) maxError = Math.max(maxError, Math.abs(q[i] - original[i]));
    expect(maxError).toBeGreaterThan(0);
    expect(maxError).toBeLessThan(0.01);
  });

  it('converts the half RoPE layout to adjacent on write', async () => {
    const half = createRandomModel({ ropeLayout: 'half', seed: 3 });
    const { bytes } = writeModel({}, half);
    const back = await ggufToModelData(readGguf(bytes), { tokenizer: half.tokenizer });
    expect(back.spec.ropeLayout).toBe('adjacent');
    const expected = convertRopeLayout(half.spec, half.weights, 'adjacent').weights;
    expect(back.weights.float32('blk.1.attn_k.weight')).toEqual(expected.float32('blk.1.attn_k.weight'));
    expect(back.weights.float32('blk.1.attn_q.weight')).not.toEqual(half.weights.float32('blk.1.attn_q.weight'));
  });

  it('rejects other architectures and partial RoPE', () => {
    const { metadata, tensors } = modelDataToGguf(createRandomModel(), testGgufTokenizerOptions());
    metadata.set('general.architecture', { type: T.string, value: 'gpt2' });
    expect(() => validateGgufForLlama(readGguf(writeGguf({ metadata, tensors })))).toThrow(/architecture "gpt2"/);
    metadata.set('general.architecture', { type: T.string, value: 'llama' });
    metadata.set('llama.rope.dimension_count', { type: T.uint32, value: 4 });
    return expect(ggufToModelData(readGguf(writeGguf({ metadata, tensors })))).rejects.toThrow(UnsupportedFeatureError);
  });
});

describe('validateGgufForLlama (hostile input)', () => {
  const base = () => modelDataToGguf(createRandomModel(), testGgufTokenizerOptions());

  it('accepts what modelDataToGguf writes', () => {
    const { metadata, tensors } = base();
    expect(validateGgufForLlama(readGguf(writeGguf({ metadata, tensors }))).nLayers).toBe(2);
  });

  const cases: Array<[string, (meta: Map<string, GgufValue>) => void, RegExp, string]> = [
    [
      'block_count over 512',
      (m) => m.set('llama.block_count', { type: T.uint32, value: 100_000 }),
      /outside 1..512/,
      'llama.block_count',
    ],
    [
      'block_count inconsistent with tensors',
      (m) => m.set('llama.block_count', { type: T.uint32, value: 1 }),
      /belongs to layer 1/,
      'llama.block_count',
    ],
    [
      'block_count as a string',
      (m) => m.set('llama.block_count', { type: T.string, value: '2' }),
      /value type 8/,
      'llama.block_count',
    ],
    [
      'tokens as int32',
      (m) => m.set('tokenizer.ggml.tokens', { type: T.array, itemType: T.int32, value: new Array(300).fill(1) }),
      /type 5, llama.cpp reads them as type 8/,
      'tokenizer.ggml.tokens',
    ],
    [
      'scores as float64',
      (m) => m.set('tokenizer.ggml.scores', { type: T.array, itemType: T.float64, value: new Array(300).fill(0) }),
      /type 12/,
      'tokenizer.ggml.scores',
    ],
    [
      'scores shorter than tokens',
      (m) => m.set('tokenizer.ggml.scores', { type: T.array, itemType: T.float32, value: [0] }),
      /1 scores for 300 tokens/,
      'tokenizer.ggml.scores',
    ],
    [
      'token_type as uint8',
      (m) => m.set('tokenizer.ggml.token_type', { type: T.array, itemType: T.uint8, value: new Array(300).fill(1) }),
      /type 0/,
      'tokenizer.ggml.token_type',
    ],
    [
      'a malformed byte token <0x-1>',
      (m) => {
        const tokens = [...((m.get('tokenizer.ggml.tokens')?.value ?? []) as string[])];
        tokens[3] = '<0x-1>';
        m.set('tokenizer.ggml.tokens', { type: T.array, itemType: T.string, value: tokens });
      },
      /byte token 3 is "<0x-1>"/,
      'tokenizer.ggml.tokens',
    ],
    [
      'duplicate token texts (llama.cpp aborts on them)',
      (m) => {
        const tokens = [...((m.get('tokenizer.ggml.tokens')?.value ?? []) as string[])];
        tokens[299] = tokens[298];
        m.set('tokenizer.ggml.tokens', { type: T.array, itemType: T.string, value: tokens });
      },
      /tokens 298 and 299 are both/,
      'tokenizer.ggml.tokens',
    ],
    [
      'bos id out of range',
      (m) => m.set('tokenizer.ggml.bos_token_id', { type: T.uint32, value: 300 }),
      /outside the vocabulary/,
      'tokenizer.ggml.bos_token_id',
    ],
    [
      'eos id negative',
      (m) => m.set('tokenizer.ggml.eos_token_id', { type: T.int32, value: -5 }),
      /outside the vocabulary/,
      'tokenizer.ggml.eos_token_id',
    ],
    [
      'merges that are not pairs',
      (m) => m.set('tokenizer.ggml.merges', { type: T.array, itemType: T.string, value: ['ab'] }),
      /not "a b"/,
      'tokenizer.ggml.merges',
    ],
    [
      'epsilon of zero',
      (m) => m.set('llama.attention.layer_norm_rms_epsilon', { type: T.float32, value: 0 }),
      /epsilon 0/,
      'llama.attention.layer_norm_rms_epsilon',
    ],
    [
      'heads not dividing width',
      (m) => m.set('llama.attention.head_count', { type: T.uint32, value: 5 }),
      /5 heads/,
      'llama.attention.head_count',
    ],
    [
      'kv heads not dividing heads',
      (m) => m.set('llama.attention.head_count_kv', { type: T.uint32, value: 3 }),
      /3 KV heads/,
      'llama.attention.head_count_kv',
    ],
    [
      'a huge context',
      (m) => m.set('llama.context_length', { type: T.uint32, value: 0xffffffff }),
      /outside/,
      'llama.context_length',
    ],
    [
      'an unknown tokenizer model',
      (m) => m.set('tokenizer.ggml.model', { type: T.string, value: 'evil' }),
      /unknown tokenizer model/,
      'tokenizer.ggml.model',
    ],
    ['a nested array', (m) => m.set('x', { type: T.array, itemType: T.array, value: [] }), /arrays of arrays/, 'x'],
    [
      'vocab size unlike the embedding',
      (m) => m.set('llama.vocab_size', { type: T.uint32, value: 301 }),
      /token_embd.weight|301/,
      'token_embd.weight',
    ],
  ];
  for (const [label, mutate, message, field] of cases) {
    it(`rejects ${label}`, () => {
      const { metadata, tensors } = base();
      mutate(metadata);
      let error: unknown;
      try {
        validateGgufForLlama(readGguf(writeGguf({ metadata, tensors }), 'hostile.gguf'));
      } catch (e) {
        error = e;
      }
      expect(ModelFormatError.isInstance(error), String(error)).toBe(true);
      expect((error as ModelFormatError).message).toMatch(message);
      expect((error as ModelFormatError).field).toBe(field);
      expect((error as ModelFormatError).file).toBe('hostile.gguf');
    });
  }

  it('rejects a missing tensor and a wrong shape', () => {
    const { metadata, tensors } = base();
    const missing = tensors.filter((t) => t.name !== 'blk.1.ffn_up.weight');
    expect(() => validateGgufForLlama(readGguf(writeGguf({ metadata, tensors: missing })))).toThrow(
      /blk.1.ffn_up.weight.*missing/,
    );
    metadata.set('llama.feed_forward_length', { type: T.uint32, value: 64 });
    expect(() => validateGgufForLlama(readGguf(writeGguf({ metadata, tensors })))).toThrow(/hyper-parameters need/);
  });
});

describe('GGUF with the tokenizer metadata of tokenizer/gguf-vocab.ts', () => {
  it('writes the same SentencePiece arrays as an independent encoder and reads a tokenizer that encodes alike', async () => {
    const model = createRandomModel();
    const { metadata, tensors } = modelDataToGguf(model);
    const independent = spmGgufMetadata(model.tokenizer as never);
    for (const key of [
      'tokenizer.ggml.model',
      'tokenizer.ggml.tokens',
      'tokenizer.ggml.scores',
      'tokenizer.ggml.token_type',
      'tokenizer.ggml.bos_token_id',
      'tokenizer.ggml.eos_token_id',
    ]) {
      expect(metadata.get(key), key).toEqual(independent.get(key));
    }
    const file = readGguf(writeGguf({ metadata, tensors }));
    validateGgufForLlama(file);
    const back = await ggufToModelData(file);
    const text = 'the quick brown fox, éh! 123';
    expect(back.tokenizer.encode(text)).toEqual(model.tokenizer.encode(text));
  });
});

const stories = stories260KPaths();
describe.skipIf(!stories)(`stories260K through GGUF ${stories ? '' : SHARED_MISSING_REASON}`, () => {
  it('generates the llama2.c reference text after llama2.c -> GGUF (f32) -> read back', async () => {
    const { spec, weights } = readLlama2cCheckpoint(new Uint8Array(readFileSync(stories!.model)), stories!.model);
    const tokenizer = readLlama2cTokenizer(new Uint8Array(readFileSync(stories!.tokenizer)), { vocabSize: 512 });
    const { metadata, tensors } = modelDataToGguf({ spec, weights, tokenizer }, { name: 'stories260K' });
    const file = readGguf(writeGguf({ metadata, tensors }), 'stories260K.gguf');
    expect(validateGgufForLlama(file).nKvHeads).toBe(4);
    const data = await ggufToModelData(file);
    const backend = createReferenceBackend();
    const model = await backend.load(data);
    try {
      const golden = goldenContinuations.stories260K;
      const result = await generateText({ model, prompt: golden.prompt, maxTokens: golden.ids.length, temperature: 0 });
      expect(result.tokens).toEqual(golden.ids);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  });
});

const vocabDir = sharedPath('vocab');
describe.skipIf(!vocabDir)(
  `validateGgufTokenizer on llama.cpp's vocab files ${vocabDir ? '' : SHARED_MISSING_REASON}`,
  () => {
    for (const name of ['llama-spm', 'gpt-2', 'bert-bge']) {
      it(`accepts ggml-vocab-${name}.gguf (llama.cpp loads it)`, () => {
        const file = readGguf(new Uint8Array(readFileSync(`${vocabDir}/ggml-vocab-${name}.gguf`)), name);
        expect(() => validateGgufTokenizer(file)).not.toThrow();
      });
    }
  },
);
