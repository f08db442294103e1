/** Logits for one or more positions of a forward pass: `rows` x `vocabSize`, row-major. */
export class Logits {
  readonly data: Float32Array;
  readonly vocabSize: number;
  /** Absolute cache position of each row. */
  readonly positions: readonly number[];

  constructor(data: Float32Array, vocabSize: number, positions: readonly number[]) {
    if (data.length !== vocabSize * positions.length) {
      throw new RangeError(`logits hold ${data.length} values, expected ${positions.length} x ${vocabSize}`);
    }
    this.data = data;
    this.vocabSize = vocabSize;
    this.positions = positions;
  }

  get rows(): number {
    return this.positions.length;
  }

  /** The logits of row `index` (a view, not a copy). */
  row(index: number): Float32Array {
    if (index < 0) index += this.rows;
    if (index < 0 || index >= this.rows) throw new RangeError(`row ${index} of ${this.rows}`);
    return this.data.subarray(index * this.vocabSize, (index + 1) * this.vocabSize);
  }

  /** The logits of the last row. */
  last(): Float32Array {
    return this.row(this.rows - 1);
  }

  static empty(vocabSize: number): Logits {
    return new Logits(new Float32Array(0), vocabSize, []);
  }
}
