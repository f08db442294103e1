import { readFile, rename, writeFile } from 'node:fs/promises';
import { float32Tensor, ModelFormatError, readSafetensors, tensorToFloat32, writeSafetensors } from '@slmkit/core';
import type { BatchCursor } from './token-batches.js';

export const CHECKPOINT_FORMAT = 'slmkit-train-checkpoint';
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** Everything besides tensors that an exact resume needs. */
export interface TrainerState {
  /** Completed optimizer steps. */
  step: number;
  /** Optimizer updates applied (AdamW bias correction). */
  optimizerStep: number;
  cursor: BatchCursor;
  /** State of the trainer's RNG after the last completed step. */
  rngState: number;
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  lastLoss: number | null;
  lastValLoss: number | null;
  tokensSeen: number;
  /** The config the run started with (JSON), checked on resume. */
  configJson: string;
}

export interface Checkpoint {
  state: TrainerState;
  params: Map<string, { shape: number[]; values: Float32Array }>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/** Writes the checkpoint atomically (temp file + rename), so a kill never leaves a torn file. */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const tensors = [];
  for (const [name, { shape, values }] of checkpoint.params) {
    tensors.push(float32Tensor(`param.${name}`, shape, values));
    const m = checkpoint.m.get(name);
    const v = checkpoint.v.get(name);
    if (m) tensors.push(float32Tensor(`adam.m.${name}`, shape, m));
    if (v) tensors.push(float32Tensor(`adam.v.${name}`, shape, v));
  }
  const bytes = writeSafetensors({
    tensors,
    metadata: { format: CHECKPOINT_FORMAT, version: '1', state: JSON.stringify(checkpoint.state) },
  });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const bytes = new Uint8Array(await readFile(path));
  const file = readSafetensors(bytes, path);
  if (file.metadata.format !== CHECKPOINT_FORMAT) {
    throw new ModelFormatError(`is not an slmkit training checkpoint (format "${file.metadata.format ?? ''}")`, {
      file: path,
      field: '__metadata__.format',
    });
  }
  let state: TrainerState;
  try {
    state = JSON.parse(file.metadata.state ?? '') as TrainerState;
  } catch (error) {
    throw new ModelFormatError('holds an unreadable trainer state', {
      file: path,
      field: '__metadata__.state',
      cause: error,
    });
  }
  const params = new Map<string, { shape: number[]; values: Float32Array }>();
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const info of file.tensors) {
    const values = Float32Array.from(tensorToFloat32(file.readTensor(info.name)));
    if (info.name.startsWith('param.')) params.set(info.name.slice(6), { shape: info.shape, values });
    else if (info.name.startsWith('adam.m.')) m.set(info.name.slice(7), values);
    else if (info.name.startsWith('adam.v.')) v.set(info.name.slice(7), values);
  }
  return { state, params, m, v };
}
