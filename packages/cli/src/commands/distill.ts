import { InvalidArgumentError, type ModelSpec, parameterCount } from '@slmkit/core';
import { createBackend } from '../backends.js';
import type { CliCommand } from '../cli-command.js';
import { numberOption, stringOption } from '../options.js';
import {
  kernelFrom,
  printResult,
  readConfigFile,
  requireOut,
  splitFiles,
  tokenizeSplits,
  trainConfigFrom,
  trainingOptions,
  trainingProgress,
} from './train.js';

export const command: CliCommand = {
  name: 'distill',
  summary: "train a smaller student on a teacher's soft targets (KL at a temperature mixed with cross-entropy)",
  usage: 'slm distill --teacher <path> [--teacher-backend llamacpp] --data <dir> --out <dir> [--preset 0.3m] [options]',
  options: {
    ...trainingOptions,
    teacher: { type: 'string', description: 'teacher model (any format core loads)', valueName: '<path>' },
    'teacher-tokenizer': {
      type: 'string',
      description: "teacher's tokenizer, where kept separately",
      valueName: '<path>',
    },
    'teacher-backend': {
      type: 'string',
      description: 'backend computing teacher logits: reference, llamacpp, onnx, tfjs (default tfjs)',
      valueName: '<name>',
    },
    preset: { type: 'string', description: 'student size preset (default 0.3m)', valueName: '<name>' },
    temperature: { type: 'string', description: 'softmax temperature of the KL term (default 2)', valueName: '<t>' },
    alpha: {
      type: 'string',
      description: 'weight of the KL term; 1 - alpha goes to cross-entropy (default 0.5)',
      valueName: '<x>',
    },
  },
  async run(values, _positionals, io) {
    const tfjs = await import('@slmkit/backend-tfjs');
    const teacherPath = stringOption(values, 'teacher');
    if (!teacherPath) throw new InvalidArgumentError('is required', { field: '--teacher' });
    const teacherTokenizer = stringOption(values, 'teacher-tokenizer');
    const backend = await createBackend(stringOption(values, 'teacher-backend') ?? 'tfjs');
    const teacher = await backend.load(
      teacherTokenizer ? { path: teacherPath, tokenizerPath: teacherTokenizer } : teacherPath,
      { signal: io.signal },
    );
    try {
      const outDir = requireOut(values);
      const file = await readConfigFile(values);
      const presetName = stringOption(values, 'preset') ?? file.preset ?? '0.3m';
      if (!(presetName in tfjs.TRAIN_PRESETS)) {
        throw new InvalidArgumentError(`unknown preset; choose one of ${Object.keys(tfjs.TRAIN_PRESETS).join(', ')}`, {
          field: '--preset',
          value: presetName,
        });
      }
      const preset = tfjs.TRAIN_PRESETS[presetName as keyof typeof tfjs.TRAIN_PRESETS];
      const spec: ModelSpec = tfjs.specFromPreset(
        { ...preset, ...(file.model as object) } as typeof preset,
        teacher.spec.vocabSize,
        'slmkit-student',
      );
      const temperature = numberOption(values, 'temperature', { min: 0.01 }) ?? 2;
      const alpha = numberOption(values, 'alpha', { min: 0, max: 1 }) ?? 0.5;
      const { train, val } = await tokenizeSplits(tfjs, await splitFiles(values), teacher.tokenizer, io.signal);
      const { onProgress, bar } = trainingProgress(io, 'distill');
      const result = await tfjs.trainModel({
        spec,
        config: trainConfigFrom(values, file),
        train,
        val,
        outDir,
        resume: values.resume === true,
        distill: { teacherLogits: tfjs.teacherFromModel(teacher), temperature, alpha },
        kernelBackend: kernelFrom(values),
        signal: io.signal,
        onProgress,
      });
      bar.done(`loss ${result.finalLoss.toFixed(3)}`);
      const exported = await tfjs.exportTrainedModel(
        outDir,
        { spec, weights: result.weights, tokenizer: teacher.tokenizer },
        { signal: io.signal },
      );
      printResult(io, values, {
        model: exported.hfFolder,
        studentParameters: parameterCount(spec),
        teacherParameters: parameterCount(teacher.spec),
        sizeRatio: parameterCount(spec) / parameterCount(teacher.spec),
        steps: result.steps,
        valLoss: result.finalValLoss ?? Number.NaN,
        valPerplexity: result.finalValLoss === null ? Number.NaN : Math.exp(result.finalValLoss),
      });
      return 0;
    } finally {
      await teacher.dispose();
      await backend.dispose();
    }
  },
};
