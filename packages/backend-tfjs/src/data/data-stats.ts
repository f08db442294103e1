import type { DuplicateKind } from './deduplicator.js';
import type { FilterReason } from './quality-filter.js';
import type { SplitName } from './split.js';

export interface SplitStats {
  documents: number;
  characters: number;
  /** Present when a tokenizer was given. */
  tokens?: number;
}

/** What the pipeline saw and did; written as stats.json. */
export interface DataStats {
  files: number;
  bytesRead: number;
  documentsRead: number;
  charactersRead: number;
  /** JSONL lines that were not JSON or lacked the text field. */
  invalidRecords: number;
  filtered: Record<FilterReason, number>;
  duplicates: Record<DuplicateKind, number>;
  kept: SplitStats;
  splits: Record<SplitName, SplitStats>;
}

export function createDataStats(withTokens: boolean): DataStats {
  const split = (): SplitStats =>
    withTokens ? { documents: 0, characters: 0, tokens: 0 } : { documents: 0, characters: 0 };
  return {
    files: 0,
    bytesRead: 0,
    documentsRead: 0,
    charactersRead: 0,
    invalidRecords: 0,
    filtered: { empty: 0, 'too-short': 0, 'too-long': 0, repetitive: 0 },
    duplicates: { exact: 0, near: 0 },
    kept: split(),
    splits: { train: split(), val: split() },
  };
}

/** A few human-readable lines for stderr. */
export function formatDataStats(stats: DataStats): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const filtered = Object.values(stats.filtered).reduce((a, b) => a + b, 0);
  const tokens = (s: { tokens?: number }) => (s.tokens === undefined ? '' : `, ${n(s.tokens)} tokens`);
  const lines = [
    `read     ${n(stats.files)} files, ${n(stats.bytesRead)} bytes, ${n(stats.documentsRead)} documents, ${n(stats.charactersRead)} characters`,
    `filtered ${n(filtered)} (${Object.entries(stats.filtered)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ')})${stats.invalidRecords > 0 ? `; ${n(stats.invalidRecords)} invalid JSONL records skipped` : ''}`,
    `dupes    ${n(stats.duplicates.exact + stats.duplicates.near)} removed (exact ${n(stats.duplicates.exact)}, near ${n(stats.duplicates.near)})`,
    `kept     ${n(stats.kept.documents)} documents, ${n(stats.kept.characters)} characters${tokens(stats.kept)}`,
    `train    ${n(stats.splits.train.documents)} documents, ${n(stats.splits.train.characters)} characters${tokens(stats.splits.train)}`,
    `val      ${n(stats.splits.val.documents)} documents, ${n(stats.splits.val.characters)} characters${tokens(stats.splits.val)}`,
  ];
  return `${lines.join('\n')}\n`;
}
