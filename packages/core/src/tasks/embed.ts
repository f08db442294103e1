import { ContextOverflowError, InvalidArgumentError, UnsupportedFeatureError } from '../errors/index.js';
import type { EmbedOptions, LoadedModel } from '../model/backend.js';

export interface EmbedTextsOptions extends EmbedOptions {
  /** Called when a text is longer than the context and was truncated. */
  onWarning?: (message: string) => void;
  /** Add BOS as the tokenizer is configured. Default true. */
  addSpecialTokens?: boolean;
}

/** Embeds each text with the model's pooled final hidden states (mean pooling, L2-normalised by default). */
export async function embed(
  model: LoadedModel,
  texts: readonly string[],
  options: EmbedTextsOptions = {},
): Promise<Float32Array[]> {
  if (!model.embed) {
    throw new UnsupportedFeatureError(`the ${model.info.backend} backend cannot return embeddings`, { field: 'embed' });
  }
  const out: Float32Array[] = [];
  for (const [i, text] of texts.entries()) {
    if (text.length === 0) throw new InvalidArgumentError('cannot embed an empty text', { field: `texts[${i}]` });
    let ids = model.tokenizer.encode(text, { addSpecialTokens: options.addSpecialTokens ?? true });
    if (ids.length > model.contextSize) {
      options.onWarning?.(`texts[${i}] has ${ids.length} tokens; truncated to the context of ${model.contextSize}`);
      ids = ids.slice(0, model.contextSize);
    }
    if (ids.length === 0) throw new ContextOverflowError(0, model.contextSize, { field: `texts[${i}]` });
    out.push(await model.embed(ids, options));
  }
  return out;
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new InvalidArgumentError(`vectors differ in length: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.sqrt(na) * Math.sqrt(nb) || 1);
}
