import { ModelFormatError } from '../errors/index.js';

export interface LabelledText {
  text: string;
  label: string;
  /** 1-based line in the source file. */
  line: number;
}

/**
 * Parses a `sentence<TAB>label` file (GLUE style, with a header line). A malformed row is a ModelFormatError naming
 * the line; `labels`, when given, lists the allowed labels.
 */
export function parseLabelledTsv(
  content: string,
  options: { file?: string; labels?: readonly string[]; header?: boolean } = {},
): LabelledText[] {
  const lines = content.split(/\r?\n/);
  const rows: LabelledText[] = [];
  const allowed = options.labels ? new Set(options.labels) : undefined;
  const start = (options.header ?? true) ? 1 : 0;
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.trim() === '') continue;
    const cut = raw.lastIndexOf('\t');
    const line = i + 1;
    if (cut <= 0)
      throw new ModelFormatError(`line ${line}: expected "text<TAB>label"`, {
        file: options.file,
        field: `line ${line}`,
      });
    const text = raw.slice(0, cut).trim();
    const label = raw.slice(cut + 1).trim();
    if (text === '' || label === '') {
      throw new ModelFormatError(`line ${line}: empty ${text === '' ? 'text' : 'label'}`, {
        file: options.file,
        field: `line ${line}`,
      });
    }
    if (allowed && !allowed.has(label)) {
      throw new ModelFormatError(`line ${line}: label "${label}" is not one of ${[...allowed].join(', ')}`, {
        file: options.file,
        field: `line ${line}`,
        value: label,
      });
    }
    rows.push({ text, label, line });
  }
  if (rows.length === 0) throw new ModelFormatError('holds no rows', { file: options.file });
  return rows;
}
