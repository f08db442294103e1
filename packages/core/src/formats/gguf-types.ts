/** GGUF metadata value types (the numbering of the GGUF v3 specification). */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/**
 * A metadata value as read: numbers for 8..32-bit integers and floats, bigint for 64-bit integers, strings,
 * booleans, and typed arrays. `type` (and `itemType` for arrays) keeps the on-disk type so a file round-trips.
 */
export type GgufValue =
  | { type: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 12; value: number }
  | { type: 10 | 11; value: bigint }
  | { type: 7; value: boolean }
  | { type: 8; value: string }
  | { type: 9; itemType: Exclude<GgufValueType, 9>; value: GgufArrayValue }
  | { type: 9; itemType: 9; value: GgufValue[] };

export type GgufArrayValue = number[] | bigint[] | boolean[] | string[];

/** ggml tensor types by number (subset slmkit reads or writes; others are reported by number). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
  Q4_K: 12,
} as const;
