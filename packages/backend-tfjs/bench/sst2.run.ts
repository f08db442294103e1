/**
 * SST-2 (GLUE, ../shared/datasets/sst2; dev only for evaluation): DistilBERT's claim at small scale.
 *   1. trains a tokenizer and a teacher classifier (Llama backbone + mean pooling + linear head) from scratch on
 *      SST-2 train with tfjs;
 *   2. distils a student (<= 60% of the teacher's parameters) from the teacher's soft labels;
 *   3. measures dev accuracy, params, size, latency per sentence (batch 1) and throughput (batch 32) of both on the
 *      same backend (tfjs wasm, one thread), agreement of the tfjs classifier with core's reference backend, and the
 *      lexicon peers vader-sentiment and sentiment (AFINN) on the same dev set in the same run;
 *   4. writes the table (Markdown + JSON) and both classifiers to OUT (default <os tmpdir>/slmkit-sst2-<time>).
 *   npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts sst2
 * Knobs (env): DIM (128), TEACHER_LAYERS (4), STUDENT_LAYERS (1), STUDENT_DIM (DIM), FFN (344), HEADS (4),
 * VOCAB (4096), MAX_LEN (64), EPOCHS (2), STUDENT_EPOCHS (EPOCHS), BATCH (32), LR (2e-3), TRAIN_LIMIT (all),
 * SEED (1), TEMPERATURE (2), ALPHA (0.7), REFERENCE_CHECK (1), TOKEN_DROPOUT (0), STUDENT_TOKEN_DROPOUT (0), WD (0.01),
 * LABEL_SMOOTHING (0, teacher only), STUDENT_HEADS (HEADS), STUDENT_FFN (FFN * STUDENT_DIM / DIM),
 * PRETRAIN_STEPS (0: none; else the teacher's backbone is first pre-trained by next-token prediction on the SST-2
 * train sentences only, BOS + text + EOS concatenated, with trainModel, then fine-tuned as a classifier),
 * PRETRAIN_LR (3e-3), PRETRAIN_BATCH (32), PRETRAIN_SEQ (MAX_LEN).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ModelSpec,
  parameterCount,
  parseLabelledTsv,
  parseTokenizerJson,
  TextClassifier,
  type Tokenizer,
} from '@slmkit/core';
import { createReferenceBackend } from '@slmkit/core/testing';
import { sharedPath } from '@slmkit/core/testing/shared';
import { it } from 'vitest';
import { saveClassifier } from '../src/classification/classifier-files.js';
import { distillClassifier } from '../src/classification/distill-classifier.js';
import { TfjsClassifier } from '../src/classification/tfjs-classifier.js';
import {
  type ClassifierTrainProgress,
  type TrainClassifierOptions,
  type TrainedClassifier,
  trainClassifier,
} from '../src/classification/train-classifier.js';
import { trainTokenizer } from '../src/tokenizer-training/train-tokenizer.js';
import { trainModel } from '../src/training/trainer.js';

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const log = (m: string) => process.stderr.write(`[sst2 ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function progress(tag: string): (p: ClassifierTrainProgress) => void {
  let last = 0;
  return (p) => {
    if (p.step === p.totalSteps || p.elapsedSeconds - last >= 15) {
      last = p.elapsedSeconds;
      log(
        `${tag} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.learningRate.toExponential(2)} ${p.elapsedSeconds.toFixed(0)}s`,
      );
    }
  };
}

function makeSpec(
  name: string,
  vocabSize: number,
  dim: number,
  nLayers: number,
  ffnDim: number,
  heads: number,
  contextLength: number,
): ModelSpec {
  return {
    architecture: 'llama',
    name,
    vocabSize,
    dim,
    nLayers,
    nHeads: heads,
    nKvHeads: heads,
    ffnDim,
    ropeTheta: 10000,
    ropeLayout: 'adjacent',
    normEps: 1e-5,
    contextLength,
    tiedEmbeddings: true,
  };
}

interface Measured {
  name: string;
  params: number;
  bytes: number;
  accuracy: number;
  msPerSentence: number;
  sentencesPerSecondBatched: number;
  trainSeconds?: number;
}

async function measure(
  name: string,
  trained: TrainedClassifier,
  dev: { text: string; label: string }[],
  trainSeconds?: number,
): Promise<Measured & { predictions: string[] }> {
  const classifier = await TfjsClassifier.create(trained.data, trained.head);
  try {
    const texts = dev.map((d) => d.text);
    const t0 = performance.now();
    const batched = await classifier.classify(texts, { batchSize: 32 });
    const batchedSeconds = (performance.now() - t0) / 1000;
    const single = Math.min(dev.length, 400);
    await classifier.classify(texts.slice(0, 8), { batchSize: 1 }); // warm-up
    const t1 = performance.now();
    for (let i = 0; i < single; i++) await classifier.classify([texts[i]], { batchSize: 1 });
    const msPerSentence = (performance.now() - t1) / single;
    const predictions = batched.map((p) => p.label);
    const accuracy = predictions.filter((p, i) => p === dev[i].label).length / dev.length;
    const params = parameterCount(trained.data.spec) + trained.head.weight.length + trained.head.bias.length;
    return {
      name,
      params,
      bytes: params * 4,
      accuracy,
      msPerSentence,
      sentencesPerSecondBatched: dev.length / batchedSeconds,
      trainSeconds,
      predictions,
    };
  } finally {
    classifier.dispose();
  }
}

it('sst2: classifier from scratch, distilled student, lexicon peers', async () => {
  const dir = sharedPath('datasets', 'sst2');
  if (!dir) {
    log('skipped: ../shared/datasets/sst2 is absent');
    return;
  }
  const t00 = performance.now();
  const trainRows = parseLabelledTsv(await readFile(join(dir, 'train.tsv'), 'utf8'), {
    file: 'train.tsv',
    labels: ['0', '1'],
  });
  const dev = parseLabelledTsv(await readFile(join(dir, 'dev.tsv'), 'utf8'), { file: 'dev.tsv', labels: ['0', '1'] });
  const limit = env('TRAIN_LIMIT', trainRows.length);
  const train = trainRows.slice(0, limit);
  const dim = env('DIM', 128);
  const maxLength = env('MAX_LEN', 64);
  const vocab = env('VOCAB', 4096);
  const epochs = env('EPOCHS', 2);
  const batchSize = env('BATCH', 32);
  const lr = env('LR', 2e-3);
  const seed = env('SEED', 1);
  const heads = env('HEADS', 4);
  const ffn = env('FFN', 344);

  const t0 = performance.now();
  const trainedTok = await trainTokenizer(
    trainRows.map((r) => r.text),
    { kind: 'spm', vocabSize: vocab },
  );
  const tokenizer: Tokenizer = parseTokenizerJson({
    tokenizerJson: trainedTok.tokenizerJson,
    tokenizerConfig: trainedTok.tokenizerConfig,
  });
  const tokenizerSeconds = (performance.now() - t0) / 1000;
  log(`tokenizer: ${tokenizer.vocabSize} tokens in ${tokenizerSeconds.toFixed(1)}s`);

  const teacherSpec = makeSpec(
    'sst2-teacher',
    tokenizer.vocabSize,
    dim,
    env('TEACHER_LAYERS', 4),
    ffn,
    heads,
    maxLength,
  );
  const studentDim = env('STUDENT_DIM', dim);
  const studentSpec = makeSpec(
    'sst2-student',
    teacherSpec.vocabSize,
    studentDim,
    env('STUDENT_LAYERS', 1),
    env('STUDENT_FFN', studentDim === dim ? ffn : Math.round((ffn * studentDim) / dim)),
    env('STUDENT_HEADS', heads),
    maxLength,
  );
  const ratio = parameterCount(studentSpec) / parameterCount(teacherSpec);
  log(
    `teacher ${parameterCount(teacherSpec)} params, student ${parameterCount(studentSpec)} (${(ratio * 100).toFixed(1)}%), ${train.length} train rows`,
  );

  const out = process.env.OUT ?? join(tmpdir(), `slmkit-sst2-${new Date().toISOString().replace(/[:.]/g, '-')}`); // outside the repo: it holds MBs of models
  await mkdir(out, { recursive: true });

  // Optional in-domain LM pre-training of the teacher's backbone: next-token prediction on SST-2 train text only.
  const pretrainSteps = env('PRETRAIN_STEPS', 0);
  let pretrainSeconds = 0;
  let pretrainLoss: number | undefined;
  let teacherBackbone: TrainClassifierOptions['backbone'] = { spec: teacherSpec, tokenizer };
  if (pretrainSteps > 0) {
    const tPre = performance.now();
    const eos = tokenizer.special.eos;
    const stream: number[] = [];
    for (const r of trainRows) {
      for (const id of tokenizer.encode(r.text)) stream.push(id);
      if (eos !== undefined) stream.push(eos);
    }
    log(`pretrain: ${stream.length} tokens of SST-2 train text, ${pretrainSteps} steps`);
    const pre = await trainModel({
      spec: teacherSpec,
      train: Int32Array.from(stream),
      outDir: join(out, 'pretrain'),
      config: {
        seqLen: env('PRETRAIN_SEQ', maxLength),
        batchSize: env('PRETRAIN_BATCH', 32),
        steps: pretrainSteps,
        learningRate: env('PRETRAIN_LR', 3e-3),
        minLearningRate: env('PRETRAIN_LR', 3e-3) / 10,
        warmupSteps: Math.min(50, Math.ceil(pretrainSteps / 10)),
        evalEvery: 0,
        checkpointEvery: pretrainSteps,
        logEvery: 50,
        seed,
      },
      onProgress: (p) => {
        if (p.event === 'step' && (p.step % 50 === 0 || p.step === p.totalSteps))
          log(
            `pretrain step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} ${p.tokensPerSecond.toFixed(0)} tok/s eta ${p.etaSeconds.toFixed(0)}s`,
          );
      },
    });
    pretrainSeconds = (performance.now() - tPre) / 1000;
    pretrainLoss = pre.finalLoss;
    teacherBackbone = { spec: teacherSpec, tokenizer, weights: pre.weights };
    log(`pretrain done: loss ${pre.finalLoss.toFixed(4)} in ${pretrainSeconds.toFixed(0)}s`);
  }

  const tTeacher = performance.now();
  const teacher = await trainClassifier({
    backbone: teacherBackbone,
    examples: train,
    labels: ['0', '1'],
    mode: 'full',
    epochs,
    batchSize,
    learningRate: lr,
    maxLength,
    seed,
    tokenDropout: env('TOKEN_DROPOUT', 0),
    labelSmoothing: env('LABEL_SMOOTHING', 0),
    weightDecay: env('WD', 0.01),
    onProgress: progress('teacher'),
  });
  const teacherSeconds = (performance.now() - tTeacher) / 1000 + pretrainSeconds;
  const teacherClassifier = await TfjsClassifier.create(teacher.data, teacher.head);
  const tStudent = performance.now();
  const student = await distillClassifier(teacherClassifier, {
    backbone: { spec: studentSpec, tokenizer },
    examples: train,
    epochs: env('STUDENT_EPOCHS', epochs),
    batchSize,
    learningRate: lr,
    maxLength,
    seed: seed + 1,
    temperature: env('TEMPERATURE', 2),
    alpha: env('ALPHA', 0.7),
    maxParamRatio: 0.6,
    tokenDropout: env('STUDENT_TOKEN_DROPOUT', 0),
    weightDecay: env('WD', 0.01),
    onProgress: progress('student'),
  });
  const studentSeconds = (performance.now() - tStudent) / 1000;
  teacherClassifier.dispose();

  const devRows = dev.map((d) => ({ text: d.text, label: d.label }));
  const mt = await measure('teacher (from scratch)', teacher, devRows, teacherSeconds);
  const ms = await measure('student (distilled)', student, devRows, studentSeconds);
  log(`teacher dev acc ${mt.accuracy.toFixed(4)}, student ${ms.accuracy.toFixed(4)}`);

  // The same classifier on core's reference backend (core TextClassifier: head in core, backbone in the runtime).
  let referenceAgreement: number | undefined;
  if (env('REFERENCE_CHECK', 1) === 1) {
    const reference = await createReferenceBackend().load(student.data);
    const refPredictions = await new TextClassifier(reference, student.head).classify(devRows.map((d) => d.text));
    referenceAgreement = refPredictions.filter((p, i) => p.label === ms.predictions[i]).length / devRows.length;
    await reference.dispose();
    log(`student predictions, reference vs tfjs agreement ${referenceAgreement}`);
  }

  // Lexicon peers (installed as devDependencies of packages/bench), same dev set, same run.
  const requireBench = createRequire(resolve(import.meta.dirname, '../../bench/package.json'));
  const vader = requireBench('vader-sentiment') as {
    SentimentIntensityAnalyzer: { polarity_scores(t: string): { compound: number } };
  };
  const Sentiment = requireBench('sentiment') as new () => { analyze(t: string): { score: number } };
  const afinn = new Sentiment();
  const lexicon = (name: string, score: (t: string) => number): Measured => {
    const t = performance.now();
    const correct = devRows.filter((d) => (score(d.text) >= 0 ? '1' : '0') === d.label).length;
    const seconds = (performance.now() - t) / 1000;
    return {
      name,
      params: 0,
      bytes: 0,
      accuracy: correct / devRows.length,
      msPerSentence: (seconds * 1000) / devRows.length,
      sentencesPerSecondBatched: devRows.length / seconds,
    };
  };
  const peers = [
    lexicon(
      'vader-sentiment (compound >= 0 -> positive)',
      (t) => vader.SentimentIntensityAnalyzer.polarity_scores(t).compound,
    ),
    lexicon('sentiment / AFINN (score >= 0 -> positive)', (t) => afinn.analyze(t).score),
  ];

  const saved = await saveClassifier(join(out, 'student'), student);
  await saveClassifier(join(out, 'teacher'), teacher);
  const rows = [mt, ms, ...peers];
  const fmt = (m: Measured) =>
    `| ${m.name} | ${m.params ? m.params.toLocaleString('en-US') : '-'} | ${m.bytes ? `${(m.bytes / 1e6).toFixed(2)} MB` : '-'} | ${m.msPerSentence.toFixed(3)} | ${m.sentencesPerSecondBatched.toFixed(0)} | ${(m.accuracy * 100).toFixed(3)} (${Math.round(m.accuracy * dev.length)}) | ${m.trainSeconds ? m.trainSeconds.toFixed(0) : '-'} |`;
  const md = [
    `# SST-2 dev (${devRows.length} sentences) — slmkit classifiers vs lexicon peers`,
    '',
    `Backend for both classifiers: tfjs (wasm kernel, one thread). Teacher: dim ${teacherSpec.dim}, ${teacherSpec.nLayers} layers; student: dim ${studentSpec.dim}, ${studentSpec.nLayers} layers; tokenizer: spm BPE ${tokenizer.vocabSize} trained on SST-2 train (${tokenizerSeconds.toFixed(1)}s); max length ${maxLength}; ${train.length} train rows, ${epochs} epochs (student ${env('STUDENT_EPOCHS', epochs)}), batch ${batchSize}, lr ${lr}, weight decay ${env('WD', 0.01)}, label smoothing ${env('LABEL_SMOOTHING', 0)} (teacher), word dropout ${env('TOKEN_DROPOUT', 0)} (teacher) / ${env('STUDENT_TOKEN_DROPOUT', 0)} (student), T ${env('TEMPERATURE', 2)}, alpha ${env('ALPHA', 0.7)}.${pretrainSteps > 0 ? ` Teacher backbone pre-trained first: ${pretrainSteps} next-token steps on SST-2 train text only (batch ${env('PRETRAIN_BATCH', 32)} x ${env('PRETRAIN_SEQ', maxLength)} tokens, lr ${env('PRETRAIN_LR', 3e-3)}, final LM loss ${pretrainLoss?.toFixed(3)}, ${pretrainSeconds.toFixed(0)}s, included in the teacher's train s).` : ''} Student heads ${studentSpec.nHeads} (head size ${studentSpec.dim / studentSpec.nHeads}), ffn ${studentSpec.ffnDim}.`,
    '',
    '| model | params | size (f32) | latency ms/sentence (batch 1) | sentences/s (batch 32) | dev accuracy % (correct) | train s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(fmt),
    '',
    `Student / teacher: ${((ms.params / mt.params) * 100).toFixed(1)}% of the parameters, ${(mt.msPerSentence / ms.msPerSentence).toFixed(2)}x faster per sentence (batch 1), ${(ms.sentencesPerSecondBatched / mt.sentencesPerSecondBatched).toFixed(2)}x batched throughput, ${((ms.accuracy / mt.accuracy) * 100).toFixed(1)}% of the teacher's dev accuracy.`,
    referenceAgreement === undefined
      ? ''
      : `Student on core's reference backend (TextClassifier) vs tfjs: ${(referenceAgreement * 100).toFixed(2)}% identical predictions.`,
    `Memory: rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB at the end of the run. Wall time ${((performance.now() - t00) / 1000).toFixed(0)}s. Student saved to ${saved.dir}.`,
  ].join('\n');
  await writeFile(join(out, 'sst2.md'), `${md}\n`);
  await writeFile(
    join(out, 'sst2.json'),
    `${JSON.stringify({ rows: rows.map(({ ...r }) => ({ ...r, predictions: undefined })), referenceAgreement, teacherSpec, studentSpec, tokenizerSeconds, pretrainSteps, pretrainSeconds, pretrainLoss }, null, 2)}\n`,
  );
  process.stdout.write(`${md}\n`);
});
