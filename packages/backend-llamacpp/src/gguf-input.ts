import {
  type DType,
  type GgufFile,
  ggmlTypeName,
  isModelData,
  type LoadProgress,
  type ModelData,
  type ModelInput,
  type ModelSpec,
  type Tokenizer,
  tokenizerFromGguf,
  UnsupportedFeatureError,
  validateGgufForLlama,
} from '@slmkit/core';
import { detectModelFormat, openGgufFile } from '@slmkit/core/node';
import { cacheModelDataAsGguf, cacheModelFilesAsGguf } from './gguf-cache.js';

/** A GGUF file that passed core's validator, with what slmkit needs to drive it. */
export interface ValidatedGguf {
  path: string;
  spec: ModelSpec;
  tokenizer: Tokenizer;
  /** Dominant encoding of the 2-D weights, e.g. `f32`, `q8_0`. */
  weightType: string;
  /** Bytes of all tensor data. */
  weightBytes: number;
  /** Where the model came from (the user's path, or `memory`), and whether it was converted. */
  source: string;
  converted: boolean;
}

export interface ResolveOptions {
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

function weightFacts(file: GgufFile): { weightType: string; weightBytes: number } {
  const byType = new Map<string, number>();
  let weightBytes = 0;
  for (const t of file.tensors) {
    weightBytes += t.byteSize;
    if (t.shape.length > 1) {
      const name: string = (t.dtype as DType | undefined) ?? ggmlTypeName(t.ggmlType);
      byType.set(name, (byType.get(name) ?? 0) + t.byteSize);
    }
  }
  const weightType = [...byType].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'f32';
  return { weightType, weightBytes };
}

/**
 * Opens a GGUF file's header (bounds-checked, never trusting its lengths) and runs core's llama validator on it.
 * Nothing reaches llama.cpp unless this passes. A non-llama architecture is an UnsupportedFeatureError; anything
 * malformed is a ModelFormatError naming the key or tensor.
 */
export async function validateGgufFile(
  path: string,
  tokenizer?: Tokenizer,
): Promise<Omit<ValidatedGguf, 'source' | 'converted'>> {
  const file = await openGgufFile(path);
  try {
    const arch = file.metadata.get('general.architecture');
    if (arch?.type === 8 && arch.value !== 'llama') {
      throw new UnsupportedFeatureError(
        `architecture "${arch.value}" is not supported by the llamacpp backend (llama only)`,
        {
          file: path,
          field: 'general.architecture',
          value: arch.value,
        },
      );
    }
    const spec = validateGgufForLlama(file);
    const resolvedTokenizer = tokenizer ?? tokenizerFromGguf(file.metadata, path);
    return { path, spec, tokenizer: resolvedTokenizer, ...weightFacts(file) };
  } finally {
    await file.close();
  }
}

/** Turns any ModelInput into a validated GGUF file, converting non-GGUF inputs into the content-keyed cache. */
export async function resolveGgufInput(input: ModelInput, options: ResolveOptions = {}): Promise<ValidatedGguf> {
  let data: ModelData;
  let source: string;
  if (isModelData(input)) {
    data = input;
    source = 'memory';
  } else {
    const files = typeof input === 'string' ? { path: input } : input;
    source = files.path;
    if ((await detectModelFormat(files.path)) === 'gguf') {
      options.onProgress?.({ fraction: 0.05, stage: 'validating GGUF' });
      return { ...(await validateGgufFile(files.path)), source, converted: false };
    }
    const cached = await cacheModelFilesAsGguf(files, options);
    const validated = await validateGgufFile(cached.path, cached.data.tokenizer);
    return { ...validated, source, converted: true };
  }
  const cached = await cacheModelDataAsGguf(data, options);
  return { ...(await validateGgufFile(cached.path, data.tokenizer)), source, converted: true };
}
