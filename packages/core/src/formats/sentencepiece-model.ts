import { ModelFormatError, UnsupportedFeatureError } from '../errors/index.js';
import { SpmTokenizer } from '../tokenizer/spm-tokenizer.js';
import { TokenType } from '../tokenizer/token-type.js';
import type { SpecialTokens, Tokenizer } from '../tokenizer/tokenizer.js';
import { parseTokenizerJson } from './tokenizer-json.js';

/** At most this many pieces are accepted (guards allocation on corrupt files). */
export const MAX_SENTENCEPIECE_PIECES = 4_000_000;

/** SentencePiece `ModelProto` fields slmkit uses (sentencepiece_model.proto). */
export interface SentencePieceModel {
  pieces: Array<{ piece: string; score: number; type: number }>;
  trainer: {
    /** 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR. */
    modelType: number;
    byteFallback: boolean;
    unkId: number;
    bosId: number;
    eosId: number;
    padId: number;
  };
  normalizer: {
    name: string;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
    /** Non-empty when the model carries a compiled normalisation map (e.g. nmt_nfkc). */
    precompiledCharsmapLength: number;
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A bounds-checked protobuf wire-format reader over one message. */
class ProtoReader {
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly file: string | undefined,
    readonly path: string,
  ) {
    this.offset = start;
  }

  fail(message: string, field = this.path): never {
    throw new ModelFormatError(message, { file: this.file, field, offset: this.offset });
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  varint(field: string): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) this.fail('truncated varint', field);
      const b = this.bytes[this.offset++];
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    this.fail('varint is longer than 10 bytes', field);
  }

  /** A varint read as a signed int32 (protobuf `int32`, two's complement in 64 bits). */
  int32(field: string): number {
    const v = this.varint(field);
    return v >= 2 ** 31 ? Number(BigInt.asIntN(32, BigInt(v))) : v;
  }

  float(field: string): number {
    if (this.end - this.offset < 4) this.fail('truncated float', field);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4).getFloat32(0, true);
    this.offset += 4;
    return v;
  }

  /** Bounds of a length-delimited field. */
  lengthDelimited(field: string): [number, number] {
    const length = this.varint(field);
    if (length > this.end - this.offset) this.fail(`length ${length} runs past the end of the message`, field);
    const s = this.offset;
    this.offset += length;
    return [s, s + length];
  }

  string(field: string): string {
    const [s, e] = this.lengthDelimited(field);
    try {
      return utf8.decode(this.bytes.subarray(s, e));
    } catch {
      this.fail('is not valid UTF-8', field);
    }
  }

  skip(wireType: number, field: string): void {
    switch (wireType) {
      case 0:
        this.varint(field);
        return;
      case 1:
        if (this.end - this.offset < 8) this.fail('truncated fixed64', field);
        this.offset += 8;
        return;
      case 2:
        this.lengthDelimited(field);
        return;
      case 5:
        if (this.end - this.offset < 4) this.fail('truncated fixed32', field);
        this.offset += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`, field);
    }
  }

  sub(bounds: [number, number], path: string): ProtoReader {
    return new ProtoReader(this.bytes, bounds[0], bounds[1], this.file, path);
  }

  /** Iterates over (field number, wire type). */
  *fields(): Generator<[number, number]> {
    while (!this.done) {
      const key = this.varint(`${this.path} key`);
      const fieldNumber = Math.floor(key / 8);
      if (fieldNumber === 0) this.fail('field number 0 is invalid');
      yield [fieldNumber, key & 7];
    }
  }
}

function expectWire(r: ProtoReader, wire: number, expected: number, field: string): void {
  if (wire !== expected) r.fail(`wire type ${wire}, expected ${expected}`, field);
}

/** Decodes a SentencePiece `.model` protobuf (pure; no Node APIs). */
export function readSentencePieceModel(bytes: Uint8Array, file?: string): SentencePieceModel {
  const model: SentencePieceModel = {
    pieces: [],
    trainer: { modelType: 1, byteFallback: false, unkId: 0, bosId: 1, eosId: 2, padId: -1 },
    normalizer: {
      name: '',
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
      precompiledCharsmapLength: 0,
    },
  };
  const root = new ProtoReader(bytes, 0, bytes.byteLength, file, 'ModelProto');
  for (const [field, wire] of root.fields()) {
    if (field === 1) {
      expectWire(root, wire, 2, 'pieces');
      if (model.pieces.length >= MAX_SENTENCEPIECE_PIECES) root.fail('too many pieces', 'pieces');
      const index = model.pieces.length;
      const path = `pieces[${index}]`;
      const r = root.sub(root.lengthDelimited(path), path);
      const entry = { piece: '', score: 0, type: TokenType.normal as number };
      for (const [f, w] of r.fields()) {
        if (f === 1 && w === 2) entry.piece = r.string(`${path}.piece`);
        else if (f === 2 && w === 5) entry.score = r.float(`${path}.score`);
        else if (f === 3 && w === 0) {
          entry.type = r.int32(`${path}.type`);
          if (entry.type < 1 || entry.type > 6) r.fail(`unknown piece type ${entry.type}`, `${path}.type`);
        } else r.skip(w, path);
      }
      model.pieces.push(entry);
    } else if (field === 2) {
      expectWire(root, wire, 2, 'trainer_spec');
      const r = root.sub(root.lengthDelimited('trainer_spec'), 'trainer_spec');
      const t = model.trainer;
      for (const [f, w] of r.fields()) {
        if (w !== 0) {
          r.skip(w, 'trainer_spec');
          continue;
        }
        const v = r.int32(`trainer_spec.${f}`);
        if (f === 3) t.modelType = v;
        else if (f === 35) t.byteFallback = v !== 0;
        else if (f === 40) t.unkId = v;
        else if (f === 41) t.bosId = v;
        else if (f === 42) t.eosId = v;
        else if (f === 43) t.padId = v;
      }
    } else if (field === 3) {
      expectWire(root, wire, 2, 'normalizer_spec');
      const r = root.sub(root.lengthDelimited('normalizer_spec'), 'normalizer_spec');
      const n = model.normalizer;
      for (const [f, w] of r.fields()) {
        if (f === 1 && w === 2) n.name = r.string('normalizer_spec.name');
        else if (f === 2 && w === 2) {
          const [s, e] = r.lengthDelimited('normalizer_spec.precompiled_charsmap');
          n.precompiledCharsmapLength = e - s;
        } else if (f === 3 && w === 0) n.addDummyPrefix = r.varint('normalizer_spec.add_dummy_prefix') !== 0;
        else if (f === 4 && w === 0)
          n.removeExtraWhitespaces = r.varint('normalizer_spec.remove_extra_whitespaces') !== 0;
        else if (f === 5 && w === 0) n.escapeWhitespaces = r.varint('normalizer_spec.escape_whitespaces') !== 0;
        else r.skip(w, 'normalizer_spec');
      }
    } else {
      root.skip(wire, `field ${field}`);
    }
  }
  if (model.pieces.length === 0)
    throw new ModelFormatError('holds no pieces; not a SentencePiece model?', { file, field: 'pieces' });
  return model;
}

/**
 * A tokenizer from a SentencePiece `.model`: BPE models become an SpmTokenizer (llama.cpp's algorithm, which is
 * SentencePiece's), unigram models a Viterbi tokenizer. BOS is added, EOS not (SentencePiece / Llama defaults).
 */
export function sentencePieceTokenizer(
  bytes: Uint8Array,
  options: { file?: string; addBos?: boolean; addEos?: boolean } = {},
): Tokenizer {
  const model = readSentencePieceModel(bytes, options.file);
  const n = model.pieces.length;
  const id = (v: number) => (v >= 0 && v < n ? v : undefined);
  const special: SpecialTokens = {};
  const unk = id(model.trainer.unkId);
  const bos = id(model.trainer.bosId);
  const eos = id(model.trainer.eosId);
  const pad = id(model.trainer.padId);
  if (unk !== undefined) special.unk = unk;
  if (bos !== undefined) special.bos = bos;
  if (eos !== undefined) special.eos = eos;
  if (pad !== undefined) special.pad = pad;
  const vocab = {
    pieces: model.pieces.map((p) => p.piece),
    scores: Float32Array.from(model.pieces, (p) => p.score),
    types: Int32Array.from(model.pieces, (p) => p.type),
    special,
    addBos: options.addBos ?? true,
    addEos: options.addEos ?? false,
    addSpacePrefix: model.normalizer.addDummyPrefix,
  };
  if (model.trainer.modelType === 2) return new SpmTokenizer(vocab);
  if (model.trainer.modelType === 1) return unigramAsTokenizerJson(model, vocab.addBos, vocab.addEos, options.file);
  throw new ModelFormatError(`SentencePiece model_type ${model.trainer.modelType} (WORD/CHAR) is not supported`, {
    file: options.file,
    field: 'trainer_spec.model_type',
    value: model.trainer.modelType,
  });
}

/** A unigram model expressed as Hugging Face tokenizer.json (as transformers' SpmConverter writes it). */
function unigramAsTokenizerJson(model: SentencePieceModel, addBos: boolean, addEos: boolean, file?: string): Tokenizer {
  const t = model.trainer;
  const normalizers: unknown[] = [];
  const name = model.normalizer.name;
  if (/nfkc/i.test(name)) {
    // SentencePiece's nmt_nfkc / nfkc charsmaps are NFKC (plus control-character clean-up, not reproduced).
    normalizers.push({ type: 'NFKC' });
  } else if (model.normalizer.precompiledCharsmapLength > 0 && name !== 'identity') {
    throw new UnsupportedFeatureError(
      `SentencePiece normalization "${name}" (a custom precompiled charsmap) is not supported`,
      {
        file,
        field: 'normalizer_spec.precompiled_charsmap',
        value: name,
      },
    );
  }
  if (model.normalizer.removeExtraWhitespaces) {
    normalizers.push({ type: 'Strip', strip_left: true, strip_right: true });
    normalizers.push({ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' });
  }
  const controls = model.pieces.flatMap((p, id) =>
    p.type === TokenType.control || p.type === TokenType.userDefined
      ? [{ id, content: p.piece, special: p.type === TokenType.control }]
      : [],
  );
  const template: unknown[] = [];
  const specialTokens: Record<string, unknown> = {};
  const bos = model.pieces[t.bosId]?.piece;
  const eos = model.pieces[t.eosId]?.piece;
  if (addBos && bos !== undefined) {
    template.push({ SpecialToken: { id: bos, type_id: 0 } });
    specialTokens[bos] = { id: bos, ids: [t.bosId], tokens: [bos] };
  }
  template.push({ Sequence: { id: 'A', type_id: 0 } });
  if (addEos && eos !== undefined) {
    template.push({ SpecialToken: { id: eos, type_id: 0 } });
    specialTokens[eos] = { id: eos, ids: [t.eosId], tokens: [eos] };
  }
  const scheme = model.normalizer.addDummyPrefix ? 'always' : 'never';
  const json = {
    version: '1.0',
    added_tokens: controls.map((c) => ({ ...c, single_word: false, lstrip: false, rstrip: false, normalized: false })),
    normalizer: normalizers.length > 0 ? { type: 'Sequence', normalizers } : null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split: true },
    post_processor: { type: 'TemplateProcessing', single: template, pair: template, special_tokens: specialTokens },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split: true },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
      ],
    },
    model: {
      type: 'Unigram',
      unk_id: t.unkId >= 0 && t.unkId < model.pieces.length ? t.unkId : null,
      byte_fallback: t.byteFallback,
      vocab: model.pieces.map((p) => [p.piece, p.score]),
    },
  };
  const config = {
    bos_token: bos ?? null,
    eos_token: eos ?? null,
    unk_token: model.pieces[t.unkId]?.piece ?? null,
    pad_token: t.padId >= 0 ? (model.pieces[t.padId]?.piece ?? null) : null,
  };
  return parseTokenizerJson({ tokenizerJson: json, tokenizerConfig: config }, file);
}
