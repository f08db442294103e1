import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BackendError,
  InvalidArgumentError,
  type ModelSpec,
  parameterCount,
  throwIfAborted,
  validateModelSpec,
  type Weights,
} from '@slmkit/core';
import type * as TF from '@tensorflow/tfjs';
import { activateTf, DEFAULT_KERNEL_BACKEND, type TfjsKernelBackend } from '../tfjs-runtime.js';
import { AdamW } from './adamw.js';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { type CurvePoint, lossCurveSvg } from './loss-curve-svg.js';
import { learningRateAt } from './lr-schedule.js';
import { TokenBatches } from './token-batches.js';
import { TrainRng } from './train-rng.js';
import {
  type AdapterSet,
  createForwardConstants,
  createVariables,
  crossEntropy,
  disposeForwardConstants,
  disposeParams,
  distillationLoss,
  forwardLogits,
  initialValues,
  readValues,
  type TrainableParams,
  trainableShapes,
  valuesToWeights,
  weightsToValues,
} from './trainable-llama.js';

/** Hyper-parameters of a run. Defaults in DEFAULT_TRAIN_CONFIG. */
export interface TrainConfig {
  /** Tokens per training window. Default 128. */
  seqLen: number;
  /** Windows per micro-batch. Default 32 (on tfjs-wasm ~9% more tokens/s than 16 at the ~1M preset). */
  batchSize: number;
  /** Micro-batches summed per optimizer step. Default 1. */
  gradAccumulation: number;
  /** Optimizer steps. Default 1000. */
  steps: number;
  /** Peak learning rate. Default 3e-3. */
  learningRate: number;
  /** Learning rate at the end of the cosine decay. Default 3e-4. */
  minLearningRate: number;
  /** Linear warmup steps. Default 50. */
  warmupSteps: number;
  /** Decoupled weight decay on matrices. Default 0.1. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  adamEps: number;
  /** Global gradient-norm clip (0 = off). Default 1. */
  gradClip: number;
  /** Validate every N steps (0 = only at the end). Default 100. */
  evalEvery: number;
  /** Validation batches per evaluation. Default 8. */
  evalBatches: number;
  /** Save a checkpoint every N steps (and at the end). Default 100. */
  checkpointEvery: number;
  /** Stop after this many evaluations without a better validation loss (0 = never). Default 0. */
  earlyStopPatience: number;
  /** Log a step line every N steps. Default 10. */
  logEvery: number;
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  seqLen: 128,
  batchSize: 32,
  gradAccumulation: 1,
  steps: 1000,
  learningRate: 3e-3,
  minLearningRate: 3e-4,
  warmupSteps: 50,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  adamEps: 1e-8,
  gradClip: 1,
  evalEvery: 100,
  evalBatches: 8,
  checkpointEvery: 100,
  earlyStopPatience: 0,
  logEvery: 10,
  seed: 1234,
};

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  etaSeconds: number;
  valLoss?: number;
  event: 'step' | 'eval' | 'checkpoint';
}

/** LoRA: rank-r adapters on the attention and feed-forward projections; base weights frozen. */
export interface LoraOptions {
  rank: number;
  /** Scale numerator: delta = (alpha / rank) A B. Default 2 * rank. */
  alpha?: number;
}

/** Distillation: the teacher's logits for each batch, mixed into the loss as KL at a temperature. */
export interface DistillOptions {
  /** Logits [batch * seqLen, vocab] of the teacher for `inputs` (batch x seqLen). */
  teacherLogits(inputs: Int32Array, batch: number, seqLen: number): Promise<Float32Array>;
  temperature: number;
  /** Weight of the KL term (1 - alpha goes to cross-entropy). */
  alpha: number;
}

export interface TrainOptions {
  spec: ModelSpec;
  config?: Partial<TrainConfig>;
  /** Training token ids. */
  train: Int32Array;
  /** Validation token ids (default: none; then no validation loss or early stop). */
  val?: Int32Array;
  /** Folder for the checkpoint, JSONL log and loss curve. */
  outDir: string;
  /** Continue from `outDir`'s checkpoint. */
  resume?: boolean;
  /** Start from these weights (fine-tuning) instead of a random init. */
  initialWeights?: Weights;
  lora?: LoraOptions;
  distill?: DistillOptions;
  /** Overrides warmup + cosine (e.g. for tests). */
  learningRateSchedule?: (step: number) => number;
  kernelBackend?: TfjsKernelBackend;
  signal?: AbortSignal;
  onProgress?: (progress: TrainProgress) => void;
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  finalValLoss: number | null;
  bestValLoss: number | null;
  stoppedEarly: boolean;
  tokensPerSecond: number;
  parameters: number;
  checkpointPath: string;
  logPath: string;
  curvePath: string;
  /** The trained weights in core's canonical layout (LoRA merged). */
  weights: Weights;
}

/** The loss became NaN or infinite: training stopped at `step`; the last good checkpoint is kept. */
export class NonFiniteLossError extends BackendError {
  readonly step: number;
  constructor(step: number, loss: number) {
    super(
      `training loss became ${loss} at step ${step}; stopped, the last good checkpoint is kept (lower the learning rate)`,
      {
        field: 'loss',
        value: step,
      },
    );
    this.name = 'NonFiniteLossError';
    this.step = step;
  }
}

function validateConfig(c: TrainConfig): void {
  const positive: Array<keyof TrainConfig> = [
    'seqLen',
    'batchSize',
    'gradAccumulation',
    'steps',
    'checkpointEvery',
    'logEvery',
    'evalBatches',
  ];
  for (const key of positive) {
    const value = c[key];
    if (!Number.isInteger(value) || value <= 0)
      throw new InvalidArgumentError(`must be a positive integer, got ${value}`, { field: `config.${key}`, value });
  }
  for (const key of [
    'learningRate',
    'minLearningRate',
    'weightDecay',
    'gradClip',
    'warmupSteps',
    'evalEvery',
    'earlyStopPatience',
  ] as const) {
    const value = c[key];
    if (!Number.isFinite(value) || value < 0)
      throw new InvalidArgumentError(`must be a finite number >= 0, got ${value}`, { field: `config.${key}`, value });
  }
}

function checkIds(tokens: Int32Array, vocab: number, what: string): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      throw new InvalidArgumentError(`token id ${tokens[i]} at index ${i} is outside the vocabulary of ${vocab}`, {
        field: what,
        value: tokens[i],
      });
    }
  }
}

interface LoraState {
  set: AdapterSet;
  variables: Map<string, TF.Variable>;
}

function createLora(
  tf: typeof import('@tensorflow/tfjs'),
  spec: ModelSpec,
  options: LoraOptions,
  rng: TrainRng,
): LoraState {
  const rank = options.rank;
  if (!Number.isInteger(rank) || rank <= 0)
    throw new InvalidArgumentError(`LoRA rank must be a positive integer, got ${rank}`, {
      field: 'lora.rank',
      value: rank,
    });
  const scale = (options.alpha ?? 2 * rank) / rank;
  const adapters = new Map<string, { a: TF.Variable; b: TF.Variable; scale: number }>();
  const variables = new Map<string, TF.Variable>();
  for (const [name, shape] of trainableShapes(spec)) {
    if (shape.length !== 2 || name === 'token_embd.weight' || name === 'output.weight') continue;
    const [inDim, outDim] = shape;
    const aValues = new Float32Array(inDim * rank);
    for (let i = 0; i < aValues.length; i++) aValues[i] = rng.normal() / Math.sqrt(inDim);
    const a = tf.variable(
      tf.tensor2d(aValues, [inDim, rank]),
      true,
      `lora.a.${name}#${Math.random().toString(36).slice(2)}`,
    );
    const b = tf.variable(tf.zeros([rank, outDim]), true, `lora.b.${name}#${Math.random().toString(36).slice(2)}`);
    adapters.set(name, { a, b, scale });
    variables.set(`lora.a.${name}`, a);
    variables.set(`lora.b.${name}`, b);
  }
  return { set: { get: (name) => adapters.get(name) }, variables };
}

/** Base values with every adapter's delta added (what export writes). */
function mergedValues(
  tf: typeof import('@tensorflow/tfjs'),
  params: TrainableParams,
  lora?: LoraState,
): Map<string, Float32Array> {
  const values = readValues(params);
  if (!lora) return values;
  for (const name of values.keys()) {
    const adapter = lora.set.get(name);
    if (!adapter) continue;
    const delta = tf.tidy(() => tf.mul(tf.matMul(adapter.a, adapter.b), adapter.scale).dataSync() as Float32Array);
    const base = values.get(name) as Float32Array;
    for (let i = 0; i < base.length; i++) base[i] += delta[i];
  }
  return values;
}

/**
 * Trains (or fine-tunes, or distils into) a Llama model with tfjs: AdamW, warmup + cosine, clipping, accumulation,
 * validation, checkpoints with exact resume, early stop and NaN detection. Writes `checkpoint.safetensors`,
 * `train-log.jsonl` and `loss-curve.svg` into `outDir`.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...options.config };
  validateConfig(config);
  const spec = validateModelSpec(options.spec);
  if (config.seqLen > spec.contextLength) {
    throw new InvalidArgumentError(`seqLen ${config.seqLen} exceeds the model's context length ${spec.contextLength}`, {
      field: 'config.seqLen',
      value: config.seqLen,
    });
  }
  checkIds(options.train, spec.vocabSize, 'train');
  if (options.val) checkIds(options.val, spec.vocabSize, 'val');
  const batches = new TokenBatches(options.train, config.seqLen, config.batchSize, config.seed, 'training corpus');
  const valBatches =
    options.val && options.val.length > config.seqLen
      ? new TokenBatches(
          options.val,
          config.seqLen,
          Math.min(config.batchSize, Math.floor((options.val.length - 1) / config.seqLen)),
          config.seed,
          'validation corpus',
        ).fixedBatches(config.evalBatches)
      : [];

  await mkdir(options.outDir, { recursive: true });
  const checkpointPath = join(options.outDir, CHECKPOINT_FILE);
  const logPath = join(options.outDir, 'train-log.jsonl');
  const curvePath = join(options.outDir, 'loss-curve.svg');
  // `steps` may change on resume (to extend or shorten a run); everything else must match.
  const configJson = JSON.stringify({
    spec,
    config: { ...config, steps: undefined },
    lora: options.lora ?? null,
    distill: options.distill ? { temperature: options.distill.temperature, alpha: options.distill.alpha } : null,
  });

  const tf = await activateTf(options.kernelBackend ?? DEFAULT_KERNEL_BACKEND);
  const rng = new TrainRng(config.seed);
  let state: TrainerState = {
    step: 0,
    optimizerStep: 0,
    cursor: { epoch: 0, index: 0 },
    rngState: 0,
    bestValLoss: null,
    evalsWithoutImprovement: 0,
    lastLoss: null,
    lastValLoss: null,
    tokensSeen: 0,
    configJson,
  };
  const trainHistory: CurvePoint[] = [];
  const valHistory: CurvePoint[] = [];

  const baseValues = options.initialWeights ? weightsToValues(spec, options.initialWeights) : initialValues(spec, rng);
  const params = createVariables(tf, spec, baseValues);
  const lora = options.lora ? createLora(tf, spec, options.lora, rng) : undefined;
  if (lora) for (const v of params.variables.values()) v.trainable = false;
  const trainable = lora ? lora.variables : params.variables;
  const shapes = new Map<string, number[]>([...trainable].map(([k, v]) => [k, v.shape]));
  const optimizer = new AdamW(tf, {
    beta1: config.beta1,
    beta2: config.beta2,
    eps: config.adamEps,
    weightDecay: lora ? 0 : config.weightDecay,
  });
  const constants = createForwardConstants(tf, spec, config.seqLen);

  try {
    if (options.resume) {
      const ckpt = await loadCheckpoint(checkpointPath);
      if (ckpt.state.configJson !== configJson) {
        throw new InvalidArgumentError(
          'the checkpoint was written with a different model or config; resume needs the same ones',
          { file: checkpointPath, field: 'config' },
        );
      }
      for (const [name, variable] of trainable) {
        const saved = ckpt.params.get(name);
        if (!saved)
          throw new InvalidArgumentError('the checkpoint lacks a parameter', { file: checkpointPath, field: name });
        variable.assign(tf.tensor(saved.values, variable.shape));
      }
      optimizer.restore({ step: ckpt.state.optimizerStep, m: ckpt.m, v: ckpt.v }, shapes);
      state = ckpt.state;
      rng.state = state.rngState;
      batches.cursor = { ...state.cursor };
      const lines = (await readFile(logPath, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      const kept = lines.filter((line) => (JSON.parse(line) as { step: number }).step <= state.step);
      await writeFile(logPath, kept.map((l) => `${l}\n`).join(''));
      for (const line of kept) {
        const entry = JSON.parse(line) as { type: string; step: number; loss?: number; valLoss?: number };
        if (entry.type === 'step' && entry.loss !== undefined)
          trainHistory.push({ step: entry.step, value: entry.loss });
        if (entry.type === 'val' && entry.valLoss !== undefined)
          valHistory.push({ step: entry.step, value: entry.valLoss });
      }
    } else {
      await writeFile(logPath, '');
    }
    await appendFile(
      logPath,
      `${JSON.stringify({ type: options.resume ? 'resume' : 'start', step: state.step, parameters: parameterCount(spec), config })}\n`,
    );

    const evaluate = (): number => {
      let total = 0;
      for (const b of valBatches) {
        total += tf.tidy(
          () =>
            crossEntropy(
              tf,
              forwardLogits(tf, spec, params, b.inputs, b.inputs.length / config.seqLen, constants, lora?.set),
              b.targets,
            ).dataSync()[0],
        );
      }
      return total / valBatches.length;
    };
    const save = async () => {
      state.optimizerStep = optimizer.step;
      state.cursor = { ...batches.cursor };
      state.rngState = rng.state;
      const values = readValues({ variables: trainable });
      const opt = optimizer.state();
      await saveCheckpoint(checkpointPath, {
        state,
        params: new Map([...values].map(([k, v]) => [k, { shape: shapes.get(k) as number[], values: v }])),
        m: opt.m,
        v: opt.v,
      });
      await writeFile(curvePath, lossCurveSvg(trainHistory, valHistory, `${spec.name}: loss`));
    };

    const schedule =
      options.learningRateSchedule ??
      ((step: number) =>
        learningRateAt(step, {
          peak: config.learningRate,
          min: config.minLearningRate,
          warmupSteps: config.warmupSteps,
          totalSteps: config.steps,
        }));
    const started = performance.now();
    const startStep = state.step;
    let stepTime = 0;
    let stoppedEarly = false;
    const tokensPerStep = config.batchSize * config.seqLen * config.gradAccumulation;
    const varList = [...trainable.values()];
    const names = [...trainable.keys()];

    while (state.step < config.steps && !stoppedEarly) {
      throwIfAborted(options.signal, 'training');
      const step = state.step + 1;
      const lr = schedule(step);
      const t0 = performance.now();
      let lossSum = 0;
      let summed: TF.Tensor[] | undefined;
      for (let micro = 0; micro < config.gradAccumulation; micro++) {
        const batch = batches.next();
        const teacher = options.distill
          ? await options.distill.teacherLogits(batch.inputs, config.batchSize, config.seqLen)
          : undefined;
        const { value, grads } = tf.variableGrads(() => {
          const logits = forwardLogits(tf, spec, params, batch.inputs, config.batchSize, constants, lora?.set);
          if (!teacher || !options.distill) return crossEntropy(tf, logits, batch.targets);
          const probs = tf.softmax(
            tf.div(tf.tensor2d(teacher, [batch.inputs.length, spec.vocabSize]), options.distill.temperature),
          ) as TF.Tensor2D;
          return distillationLoss(tf, logits, batch.targets, probs, options.distill.temperature, options.distill.alpha);
        }, varList);
        lossSum += value.dataSync()[0];
        value.dispose();
        const list = names.map((n) => grads[varList[names.indexOf(n)].name]);
        if (!summed) summed = list;
        else {
          const next = summed.map((s, i) => tf.add(s, list[i]));
          for (const t of [...summed, ...list]) t.dispose();
          summed = next;
        }
      }
      const loss = lossSum / config.gradAccumulation;
      if (!Number.isFinite(loss)) {
        for (const t of summed ?? []) t.dispose();
        await appendFile(logPath, `${JSON.stringify({ type: 'nan', step, loss: String(loss) })}\n`);
        throw new NonFiniteLossError(step, loss);
      }
      const grads = summed as TF.Tensor[];
      const norm =
        tf.tidy(() => Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0])) /
        config.gradAccumulation;
      const scale =
        (1 / config.gradAccumulation) *
        (config.gradClip > 0 && norm > config.gradClip ? config.gradClip / (norm + 1e-6) : 1);
      const scaled = new Map<string, TF.Tensor>();
      for (let i = 0; i < names.length; i++) scaled.set(names[i], scale === 1 ? grads[i] : tf.mul(grads[i], scale));
      optimizer.apply(trainable, scaled, lr);
      for (const t of new Set([...grads, ...scaled.values()])) t.dispose();
      stepTime += performance.now() - t0;
      state.step = step;
      state.tokensSeen += tokensPerStep;
      state.lastLoss = loss;
      const tokensPerSecond = ((step - startStep) * tokensPerStep) / (stepTime / 1000);
      const etaSeconds = ((config.steps - step) * tokensPerStep) / tokensPerSecond;
      if (step % config.logEvery === 0 || step === 1 || step === config.steps) {
        trainHistory.push({ step, value: loss });
        await appendFile(
          logPath,
          `${JSON.stringify({ type: 'step', step, loss, lr, gradNorm: norm, tokensPerSecond: Math.round(tokensPerSecond), elapsedMs: Math.round(performance.now() - started) })}\n`,
        );
      }
      const progress = {
        step,
        totalSteps: config.steps,
        loss,
        learningRate: lr,
        gradNorm: norm,
        tokensPerSecond,
        etaSeconds,
      };
      options.onProgress?.({ ...progress, event: 'step' });
      const evalNow =
        valBatches.length > 0 && ((config.evalEvery > 0 && step % config.evalEvery === 0) || step === config.steps);
      if (evalNow) {
        const valLoss = evaluate();
        state.lastValLoss = valLoss;
        valHistory.push({ step, value: valLoss });
        if (state.bestValLoss === null || valLoss < state.bestValLoss) {
          state.bestValLoss = valLoss;
          state.evalsWithoutImprovement = 0;
        } else state.evalsWithoutImprovement++;
        await appendFile(logPath, `${JSON.stringify({ type: 'val', step, valLoss })}\n`);
        options.onProgress?.({ ...progress, valLoss, event: 'eval' });
        if (config.earlyStopPatience > 0 && state.evalsWithoutImprovement >= config.earlyStopPatience) {
          stoppedEarly = true;
          await appendFile(
            logPath,
            `${JSON.stringify({ type: 'early-stop', step, bestValLoss: state.bestValLoss })}\n`,
          );
        }
      }
      if (step % config.checkpointEvery === 0 || step === config.steps || stoppedEarly) {
        await save();
        options.onProgress?.({
          step,
          totalSteps: config.steps,
          loss,
          learningRate: lr,
          gradNorm: norm,
          tokensPerSecond,
          etaSeconds,
          event: 'checkpoint',
        });
      }
    }
    if (state.step === startStep) await save();
    const weights = valuesToWeights(spec, mergedValues(tf, params, lora));
    return {
      steps: state.step,
      finalLoss: state.lastLoss ?? Number.NaN,
      finalValLoss: state.lastValLoss,
      bestValLoss: state.bestValLoss,
      stoppedEarly,
      tokensPerSecond: stepTime > 0 ? ((state.step - startStep) * tokensPerStep) / (stepTime / 1000) : 0,
      parameters: parameterCount(spec),
      checkpointPath,
      logPath,
      curvePath,
      weights,
    };
  } finally {
    disposeForwardConstants(constants);
    optimizer.dispose();
    disposeParams(params);
    if (lora) for (const v of lora.variables.values()) v.dispose();
  }
}

/**
 * Mean cross-entropy of a model (core weights) on a token stream, over up to `maxBatches` fixed batches of
 * `batchSize` x `seqLen` windows: the validation loss trainModel reports, for before/after comparisons.
 */
export async function evaluateLoss(options: {
  spec: ModelSpec;
  weights: Weights;
  tokens: Int32Array;
  seqLen: number;
  batchSize?: number;
  maxBatches?: number;
  kernelBackend?: TfjsKernelBackend;
}): Promise<number> {
  const { spec, seqLen } = options;
  checkIds(options.tokens, spec.vocabSize, 'tokens');
  const windows = Math.floor((options.tokens.length - 1) / seqLen);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 8, windows));
  const batches = new TokenBatches(options.tokens, seqLen, batchSize, 0, 'evaluation text').fixedBatches(
    options.maxBatches ?? 8,
  );
  const tf = await activateTf(options.kernelBackend ?? DEFAULT_KERNEL_BACKEND);
  const params = createVariables(tf, spec, weightsToValues(spec, options.weights));
  const constants = createForwardConstants(tf, spec, seqLen);
  try {
    let total = 0;
    for (const b of batches) {
      total += tf.tidy(
        () =>
          crossEntropy(tf, forwardLogits(tf, spec, params, b.inputs, batchSize, constants), b.targets).dataSync()[0],
      );
    }
    return total / batches.length;
  } finally {
    disposeForwardConstants(constants);
    disposeParams(params);
  }
}

/** Teacher logits from any core backend's loaded model: each window evaluated from an empty cache, all rows. */
export function teacherFromModel(model: import('@slmkit/core').LoadedModel): DistillOptions['teacherLogits'] {
  return async (inputs, batch, seqLen) => {
    const vocab = model.spec.vocabSize;
    const out = new Float32Array(batch * seqLen * vocab);
    const sequence = await model.createSequence({ contextSize: Math.min(model.contextSize, Math.max(seqLen, 1)) });
    try {
      for (let b = 0; b < batch; b++) {
        await sequence.reset();
        const logits = await sequence.forward([...inputs.subarray(b * seqLen, (b + 1) * seqLen)], { logits: 'all' });
        out.set(logits.data, b * seqLen * vocab);
      }
    } finally {
      await sequence.dispose();
    }
    return out;
  };
}
