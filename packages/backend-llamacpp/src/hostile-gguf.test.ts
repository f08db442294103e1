import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type GgufValue,
  GgufValueType,
  generateText,
  modelDataToGguf,
  SlmError,
  type SlmErrorCode,
  writeGguf,
} from '@slmkit/core';
import { createRandomModel } from '@slmkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createLlamaCppBackend } from './llamacpp-backend.js';

/**
 * llama.cpp's own GGUF loader has crashed on crafted files (CVE-2024-23496 and many since). Every file below would
 * reach that loader if the backend did not run core's bounds-checked validator first; each must end in a typed
 * error, with the process alive and able to load a good model afterwards.
 */
const dir = mkdtempSync(join(tmpdir(), 'slmkit-llamacpp-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = createRandomModel({ seed: 5 });
const base = modelDataToGguf(data);

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function withMetadata(name: string, edit: (metadata: Map<string, GgufValue>) => void): string {
  const metadata = new Map(base.metadata);
  edit(metadata);
  return write(name, writeGguf({ metadata, tensors: base.tensors }));
}

function patchU32After(bytes: Uint8Array, key: string, value: number): Uint8Array {
  const needle = Buffer.from(key);
  const at = Buffer.from(bytes).indexOf(needle);
  if (at < 0) throw new Error(`key ${key} not in file`);
  const copy = bytes.slice();
  // key bytes, then the u32 value type, then the value
  new DataView(copy.buffer).setUint32(at + needle.length + 4, value, true);
  return copy;
}

function u64(view: DataView, offset: number, value: bigint): void {
  view.setBigUint64(offset, value, true);
}

const good = write('good.gguf', writeGguf({ metadata: base.metadata, tensors: base.tensors }));

const cases: Array<[string, () => string, SlmErrorCode, RegExp]> = [
  [
    'a 43-byte file whose key length is 2^64-16',
    () => {
      const bytes = new Uint8Array(43);
      const view = new DataView(bytes.buffer);
      bytes.set(Buffer.from('GGUF'), 0);
      view.setUint32(4, 3, true);
      u64(view, 8, 0n);
      u64(view, 16, 1n);
      u64(view, 24, 0xfffffffffffffff0n);
      return write('huge-string.gguf', bytes);
    },
    'MODEL_FORMAT',
    /./,
  ],
  [
    'a tensor count of 2^40 in a tiny file',
    () => {
      const bytes = new Uint8Array(64);
      const view = new DataView(bytes.buffer);
      bytes.set(Buffer.from('GGUF'), 0);
      view.setUint32(4, 3, true);
      u64(view, 8, 1n << 40n);
      u64(view, 16, 0n);
      return write('huge-count.gguf', bytes);
    },
    'MODEL_FORMAT',
    /./,
  ],
  [
    'an array of scores stored as int32 where llama.cpp casts to float',
    () =>
      withMetadata('scores-int.gguf', (m) => {
        const scores = m.get('tokenizer.ggml.scores');
        const n = scores?.type === GgufValueType.array ? scores.value.length : data.spec.vocabSize;
        m.set('tokenizer.ggml.scores', {
          type: GgufValueType.array,
          itemType: GgufValueType.int32,
          value: new Array(n).fill(0),
        });
      }),
    'MODEL_FORMAT',
    /tokenizer\.ggml\.scores/,
  ],
  [
    'token types stored as strings',
    () =>
      withMetadata('types-string.gguf', (m) => {
        m.set('tokenizer.ggml.token_type', {
          type: GgufValueType.array,
          itemType: GgufValueType.string,
          value: new Array(data.spec.vocabSize).fill('1'),
        });
      }),
    'MODEL_FORMAT',
    /token_type/,
  ],
  [
    'a general.alignment of 2^30',
    () =>
      write(
        'alignment.gguf',
        patchU32After(
          writeGguf({
            metadata: new Map([...base.metadata, ['general.alignment', { type: GgufValueType.uint32, value: 32 }]]),
            tensors: base.tensors,
          }),
          'general.alignment',
          1 << 30,
        ),
      ),
    'MODEL_FORMAT',
    /alignment/,
  ],
  [
    'a block_count of 513',
    () =>
      write(
        'blocks.gguf',
        patchU32After(writeGguf({ metadata: base.metadata, tensors: base.tensors }), 'llama.block_count', 513),
      ),
    'MODEL_FORMAT',
    /block_count/,
  ],
  [
    'a byte token <0x-1>',
    () =>
      withMetadata('byte-token.gguf', (m) => {
        const tokens = m.get('tokenizer.ggml.tokens');
        if (tokens?.type !== GgufValueType.array) throw new Error('no tokens');
        const pieces = [...(tokens.value as string[])];
        pieces[3] = '<0x-1>';
        m.set('tokenizer.ggml.tokens', { type: GgufValueType.array, itemType: GgufValueType.string, value: pieces });
      }),
    'MODEL_FORMAT',
    /0x-1|byte/,
  ],
  [
    'a BOS id outside the vocabulary',
    () =>
      withMetadata('bos.gguf', (m) =>
        m.set('tokenizer.ggml.bos_token_id', { type: GgufValueType.uint32, value: 1_000_000 }),
      ),
    'MODEL_FORMAT',
    /bos_token_id/,
  ],
  [
    'a file truncated in its tensor data',
    () => {
      const bytes = writeGguf({ metadata: base.metadata, tensors: base.tensors });
      return write('truncated.gguf', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    },
    'MODEL_FORMAT',
    /truncat|end|remain|beyond|past/i,
  ],
  [
    'an unsupported architecture',
    () =>
      withMetadata('gpt2.gguf', (m) => m.set('general.architecture', { type: GgufValueType.string, value: 'gpt2' })),
    'UNSUPPORTED_FEATURE',
    /gpt2/,
  ],
];

describe('llamacpp backend: hostile and bad GGUF input', () => {
  const backend = createLlamaCppBackend({ cacheDir: dir });
  afterAll(() => backend.dispose());

  for (const [what, make, code, message] of cases) {
    it(`rejects ${what} with a typed ${code} error before llama.cpp reads it`, async () => {
      const path = make();
      let caught: unknown;
      try {
        const model = await backend.load(path);
        await model.dispose();
      } catch (error) {
        caught = error;
      }
      expect(SlmError.isInstance(caught), String(caught)).toBe(true);
      expect((caught as SlmError).code, String(caught)).toBe(code);
      expect((caught as SlmError).message).toMatch(message);
    });
  }

  it('rejects a context longer than the model with ContextOverflowError', async () => {
    await expect(backend.load(good, { contextSize: data.spec.contextLength + 1 })).rejects.toSatisfy(
      (e: unknown) => SlmError.isInstance(e) && e.code === 'CONTEXT_OVERFLOW',
    );
  });

  it('still loads and runs a good model after all of the above', async () => {
    const model = await backend.load(good);
    const result = await generateText({ model, prompt: 'the quick', maxTokens: 5, temperature: 0, stopTokens: [] });
    expect(result.tokens).toHaveLength(5);
    await model.dispose();
  });
});
