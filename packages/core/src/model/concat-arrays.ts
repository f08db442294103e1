type NumericArray = Uint8Array | Int32Array | Float32Array;
type NumericArrayConstructor<T extends NumericArray> = new (length: number) => T;

/** Joins typed arrays of one kind into a new array of the same kind. */
export function concatArrays<T extends NumericArray>(parts: readonly T[], kind: NumericArrayConstructor<T>): T {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new kind(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
