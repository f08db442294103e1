import { byteTokenText } from './token-type.js';

export interface UnigramModelOptions {
  pieces: readonly string[];
  scores: ArrayLike<number>;
  unkId?: number;
  byteFallback?: boolean;
}

interface TrieNode {
  id: number;
  children: Map<string, TrieNode> | undefined;
}

const utf8 = new TextEncoder();
const UNK_PENALTY = 10;

/**
 * SentencePiece unigram segmentation: the Viterbi path maximising the sum of piece log-probabilities; a character
 * no piece covers becomes <unk> (scored min - 10) or its `<0xXX>` bytes with byte fallback.
 */
export class UnigramModel {
  readonly #root: TrieNode = { id: -1, children: undefined };
  readonly #scores: ArrayLike<number>;
  readonly #unkId: number | undefined;
  readonly #unkScore: number;
  readonly #byteIds: Int32Array | undefined;

  constructor(options: UnigramModelOptions) {
    this.#scores = options.scores;
    this.#unkId = options.unkId;
    let min = Number.POSITIVE_INFINITY;
    const byPiece = new Map<string, number>();
    for (let id = 0; id < options.pieces.length; id++) {
      const piece = options.pieces[id];
      if (!byPiece.has(piece)) byPiece.set(piece, id);
      min = Math.min(min, options.scores[id]);
      if (piece.length === 0) continue;
      let node = this.#root;
      for (const ch of piece) {
        node.children ??= new Map();
        let next = node.children.get(ch);
        if (!next) {
          next = { id: -1, children: undefined };
          node.children.set(ch, next);
        }
        node = next;
      }
      if (node.id < 0) node.id = id;
    }
    this.#unkScore = (Number.isFinite(min) ? min : 0) - UNK_PENALTY;
    if (options.byteFallback) {
      this.#byteIds = new Int32Array(256);
      for (let b = 0; b < 256; b++) this.#byteIds[b] = byPiece.get(byteTokenText(b)) ?? -1;
    }
  }

  tokenize(word: string, out: number[]): void {
    const chars = Array.from(word);
    const n = chars.length;
    const best = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    const from = new Int32Array(n + 1).fill(-1);
    const ids = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if (best[i] === Number.NEGATIVE_INFINITY) continue;
      let node: TrieNode | undefined = this.#root;
      let coveredSingle = false;
      for (let j = i; j < n && node?.children; j++) {
        node = node.children.get(chars[j]);
        if (!node) break;
        if (node.id >= 0) {
          if (j === i) coveredSingle = true;
          const score = best[i] + this.#scores[node.id];
          if (score > best[j + 1]) {
            best[j + 1] = score;
            from[j + 1] = i;
            ids[j + 1] = node.id;
          }
        }
      }
      if (!coveredSingle) {
        const score = best[i] + this.#unkScore;
        if (score > best[i + 1]) {
          best[i + 1] = score;
          from[i + 1] = i;
          ids[i + 1] = -2; // unknown character
        }
      }
    }
    const path: Array<[number, number]> = [];
    for (let e = n; e > 0; e = from[e]) path.push([from[e], ids[e]]);
    path.reverse();
    let lastUnk = false;
    for (const [start, id] of path) {
      if (id >= 0) {
        out.push(id);
        lastUnk = false;
        continue;
      }
      if (this.#byteIds) {
        const bytes = utf8.encode(chars[start]);
        const byteIds = Array.from(bytes, (b) => (this.#byteIds as Int32Array)[b]);
        if (byteIds.every((b) => b >= 0)) {
          out.push(...byteIds);
          lastUnk = false;
          continue;
        }
      }
      if (this.#unkId !== undefined && !lastUnk) out.push(this.#unkId);
      lastUnk = true;
    }
  }
}
