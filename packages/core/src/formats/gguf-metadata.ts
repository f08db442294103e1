import { ModelFormatError } from '../errors/index.js';
import { type GgufValue, GgufValueType } from './gguf-types.js';

/** Typed accessors over GGUF metadata that throw ModelFormatError naming the key on a missing or mistyped value. */
export class GgufMetadataReader {
  constructor(
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly file?: string,
  ) {}

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  #fail(key: string, message: string, value?: unknown): never {
    throw new ModelFormatError(message, { file: this.file, field: key, value });
  }

  /** An integer-typed value (any of the 8..64-bit integer types) as a safe number. */
  integer(key: string): number;
  integer(key: string, fallback: number): number;
  integer(key: string, fallback?: number): number {
    const v = this.metadata.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.#fail(key, 'required metadata key is missing');
    }
    if (v.type === GgufValueType.uint64 || v.type === GgufValueType.int64) {
      if (v.value > BigInt(Number.MAX_SAFE_INTEGER) || v.value < -BigInt(Number.MAX_SAFE_INTEGER)) {
        this.#fail(key, `value ${v.value} is out of range`, v.value);
      }
      return Number(v.value);
    }
    if (v.type <= GgufValueType.int32) return v.value as number;
    return this.#fail(key, `has value type ${v.type}, expected an integer`, v.type);
  }

  /** A float32/float64 value (integers accepted). */
  float(key: string, fallback?: number): number {
    const v = this.metadata.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.#fail(key, 'required metadata key is missing');
    }
    if (v.type === GgufValueType.float32 || v.type === GgufValueType.float64) return v.value;
    return this.integer(key);
  }

  string(key: string): string;
  string(key: string, fallback: string): string;
  string(key: string, fallback?: string): string {
    const v = this.metadata.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.#fail(key, 'required metadata key is missing');
    }
    if (v.type !== GgufValueType.string) this.#fail(key, `has value type ${v.type}, expected a string`, v.type);
    return v.value;
  }

  optionalString(key: string): string | undefined {
    return this.metadata.has(key) ? this.string(key) : undefined;
  }

  /** An array whose items have exactly `itemType` (llama.cpp reads such arrays without conversion). */
  array(key: string, itemType: Exclude<GgufValueType, 9>): readonly unknown[] | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.array) this.#fail(key, `has value type ${v.type}, expected an array`, v.type);
    if (v.itemType !== itemType) {
      this.#fail(key, `array items have type ${v.itemType}, llama.cpp reads them as type ${itemType}`, v.itemType);
    }
    return v.value as readonly unknown[];
  }
}

export function ggufU32(value: number): GgufValue {
  return { type: GgufValueType.uint32, value };
}
export function ggufF32(value: number): GgufValue {
  return { type: GgufValueType.float32, value: Math.fround(value) };
}
export function ggufString(value: string): GgufValue {
  return { type: GgufValueType.string, value };
}
