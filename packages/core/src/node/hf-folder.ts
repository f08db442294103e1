import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InvalidArgumentError, ModelFormatError, NotFoundError } from '../errors/index.js';
import { canonicalToHfName, hfConfigToSpec, hfToCanonicalName, specToHfConfig } from '../formats/hf-config.js';
import { readSafetensors, type SafetensorsFile, writeSafetensors } from '../formats/safetensors.js';
import type { ModelData } from '../model/backend.js';
import { convertRopeLayout } from '../model/rope-layout.js';
import { convertTensor, createTensor, type Tensor } from '../model/tensor.js';
import { expectedLlamaShapes, validateLlamaWeights, Weights } from '../model/weights.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { tokenizerToJson } from '../tokenizer/tokenizer-to-json.js';
import { pathExists, readModelFile } from './read-file.js';

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new NotFoundError(`${what} is missing`, { file: path, cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError(`${what} is not valid JSON`, { file: path, cause: error });
  }
}

/** The safetensors files of an HF folder: from `model.safetensors.index.json` when present, else every *.safetensors. */
export async function listSafetensorsShards(dir: string): Promise<string[]> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await pathExists(indexPath)) {
    const index = await readJson(indexPath, 'safetensors index');
    const map = (index as { weight_map?: unknown })?.weight_map;
    if (typeof map !== 'object' || map === null)
      throw new ModelFormatError('has no weight_map object', { file: indexPath, field: 'weight_map' });
    const files = new Set<string>();
    for (const [tensor, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || shard !== basename(shard) || !shard.endsWith('.safetensors')) {
        throw new ModelFormatError(`shard ${JSON.stringify(shard)} is not a .safetensors file name in this folder`, {
          file: indexPath,
          field: `weight_map.${tensor}`,
        });
      }
      files.add(shard);
    }
    return [...files].map((f) => join(dir, f));
  }
  const entries = (await readdir(dir)).filter((e) => e.endsWith('.safetensors')).sort();
  if (entries.length === 0) throw new NotFoundError('folder holds no *.safetensors file', { file: dir });
  return entries.map((e) => join(dir, e));
}

export interface LoadHfFolderOptions {
  /** The tokenizer; default: read from the folder's tokenizer files with `loadTokenizer`. */
  tokenizer?: Tokenizer;
  /** Loads the folder's tokenizer when `tokenizer` is not given. */
  loadTokenizer?: (dir: string) => Promise<Tokenizer>;
}

/**
 * Reads a Hugging Face Llama folder (config.json + model.safetensors or sharded *.safetensors with an index) into
 * ModelData with canonical tensor names and `spec.ropeLayout = 'half'` (HF's q/k layout, kept as stored).
 */
export async function loadHfFolder(dir: string, options: LoadHfFolderOptions = {}): Promise<ModelData> {
  const configPath = join(dir, 'config.json');
  const spec = hfConfigToSpec(await readJson(configPath, 'config.json'), configPath, basename(dir));
  spec.provenance = { format: 'safetensors', source: dir };
  const tensors: Tensor[] = [];
  for (const shard of await listSafetensorsShards(dir)) {
    const file: SafetensorsFile = readSafetensors(await readModelFile(shard, 'safetensors shard'), shard);
    for (const info of file.tensors) {
      const canonical = hfToCanonicalName(info.name);
      if (!canonical) continue;
      const t = file.readTensor(info.name);
      tensors.push(createTensor(canonical, t.shape, t.dtype, t.data));
    }
  }
  let weights = new Weights(tensors, dir);
  if (spec.tiedEmbeddings && weights.has('output.weight')) {
    weights = new Weights(
      [...weights].filter((t) => t.name !== 'output.weight'),
      dir,
    );
  }
  validateLlamaWeights(spec, weights);
  let tokenizer = options.tokenizer;
  if (!tokenizer) {
    if (!options.loadTokenizer) {
      throw new InvalidArgumentError('no tokenizer loader was given for the Hugging Face folder', {
        file: dir,
        field: 'tokenizer',
      });
    }
    tokenizer = await options.loadTokenizer(dir);
  }
  return { spec, weights, tokenizer };
}

export interface WriteHfFolderOptions {
  /** Weight encoding; default f32. */
  dtype?: 'f32' | 'f16';
  /** Writes the tokenizer files; default: tokenizer.json and tokenizer_config.json from `tokenizerToJson`. */
  writeTokenizer?: (dir: string, tokenizer: Tokenizer) => Promise<void>;
}

/**
 * Writes ModelData as a Hugging Face Llama folder: config.json, generation_config.json, model.safetensors (q/k in
 * the `half` layout, HF names) and, given `writeTokenizer`, the tokenizer files.
 */
export async function writeHfFolder(dir: string, data: ModelData, options: WriteHfFolderOptions = {}): Promise<void> {
  const { spec, weights } = convertRopeLayout(data.spec, data.weights, 'half');
  validateLlamaWeights(spec, weights);
  const dtype = options.dtype ?? 'f32';
  const tensors: Tensor[] = [];
  for (const name of expectedLlamaShapes(spec).keys()) {
    const t = weights.get(name);
    const encoded = t.dtype === dtype ? t : convertTensor(t, dtype);
    tensors.push({ ...encoded, name: canonicalToHfName(name) });
  }
  await mkdir(dir, { recursive: true });
  const { bos, eos } = data.tokenizer.special;
  const config = specToHfConfig(spec, {
    bosTokenId: bos,
    eosTokenId: eos,
    torchDtype: dtype === 'f16' ? 'float16' : 'float32',
  });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const generation: Record<string, unknown> = { _from_model_config: true };
  if (bos !== undefined) generation.bos_token_id = bos;
  if (eos !== undefined) generation.eos_token_id = eos;
  await writeFile(join(dir, 'generation_config.json'), `${JSON.stringify(generation, null, 2)}\n`);
  await writeFile(join(dir, 'model.safetensors'), writeSafetensors({ tensors, metadata: { format: 'pt' } }));
  await (options.writeTokenizer ?? writeTokenizerJson)(dir, data.tokenizer);
}

/** Writes tokenizer.json and tokenizer_config.json (Hugging Face form) for a tokenizer. */
export async function writeTokenizerJson(dir: string, tokenizer: Tokenizer): Promise<void> {
  const files = tokenizerToJson(tokenizer);
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(files.tokenizerJson, null, 2)}\n`);
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(files.tokenizerConfig, null, 2)}\n`);
}
