import { describe, expect, it } from 'vitest';
import type { DeviceModelEntry } from './device-model-entry.js';
import {
  INT8_PARAMETER_LIMIT,
  MULTI_THREAD_PARAMETER_LIMIT,
  modelParameters,
  ortSettingsFor,
  type PageEnvironment,
  pickRuntimes,
  TINY_PARAMETER_LIMIT,
} from './runtime-picker.js';

const isolated: PageEnvironment = { crossOriginIsolated: true, hardwareConcurrency: 16, ortAvailable: true };
const plain: PageEnvironment = { crossOriginIsolated: false, hardwareConcurrency: 16, ortAvailable: true };

function llama2c(parameters: number | undefined, bytes = 1000): DeviceModelEntry {
  return { id: 'm', format: 'llama2c', parameters, bytes, files: { model: '/m', tokenizer: '/t' } };
}

function onnx(parameters: number, files: string[] = ['onnx/model.onnx']): DeviceModelEntry {
  return {
    id: 'o',
    format: 'onnx',
    parameters,
    bytes: 1,
    files: { folder: '/models/o/' },
    onnxFiles: Object.fromEntries(files.map((f) => [f, { bytes: 1 }])),
  };
}

describe('pickRuntimes', () => {
  it('runs tiny llama2.c checkpoints on tinyjs and larger ones on onnxruntime-web, with the others as overrides', () => {
    expect(pickRuntimes(llama2c(260_000), isolated).runtimes).toEqual(['tinyjs', 'onnxruntime-web', 'reference']);
    expect(pickRuntimes(llama2c(TINY_PARAMETER_LIMIT), isolated).runtimes[0]).toBe('tinyjs');
    expect(pickRuntimes(llama2c(TINY_PARAMETER_LIMIT + 1), isolated).runtimes).toEqual([
      'onnxruntime-web',
      'tinyjs',
      'reference',
    ]);
    expect(pickRuntimes(llama2c(15_000_000), isolated).reason).toMatch(/15\.0M parameters > 500K/);
  });

  it('goes by the weight bytes when the parameter count is unknown', () => {
    expect(modelParameters(llama2c(undefined, 4_000_000))).toBe(1_000_000);
    expect(pickRuntimes(llama2c(undefined, 4 * (TINY_PARAMETER_LIMIT + 4)), isolated).runtimes[0]).toBe(
      'onnxruntime-web',
    );
  });

  it('runs ONNX folders on onnxruntime-web only, and offers it only when the server has its WASM files', () => {
    expect(pickRuntimes(onnx(260_000), isolated).runtimes).toEqual(['onnxruntime-web']);
    const noOrt = { ...isolated, ortAvailable: false };
    expect(pickRuntimes(onnx(260_000), noOrt).runtimes).toEqual([]);
    expect(pickRuntimes(llama2c(50_000_000), noOrt).runtimes).toEqual(['tinyjs', 'reference']);
  });
});

describe('ortSettingsFor', () => {
  it('uses one thread below the multi-thread limit or without cross-origin isolation, else up to 4', () => {
    expect(ortSettingsFor(onnx(260_000), isolated).threads).toBe(1);
    expect(ortSettingsFor(onnx(MULTI_THREAD_PARAMETER_LIMIT), isolated).threads).toBe(4);
    expect(ortSettingsFor(onnx(MULTI_THREAD_PARAMETER_LIMIT), { ...isolated, hardwareConcurrency: 2 }).threads).toBe(2);
    expect(ortSettingsFor(onnx(MULTI_THREAD_PARAMETER_LIMIT), plain).threads).toBe(1);
  });

  it("prefers a large folder's 8-bit file, and fp32 for smaller models or folders without one", () => {
    const both = ['onnx/model.onnx', 'onnx/model_quantized.onnx'];
    expect(ortSettingsFor(onnx(INT8_PARAMETER_LIMIT, both), isolated).dtype).toBe('int8');
    expect(ortSettingsFor(onnx(INT8_PARAMETER_LIMIT - 1, both), isolated).dtype).toBe('auto');
    expect(ortSettingsFor(onnx(INT8_PARAMETER_LIMIT), isolated).dtype).toBe('auto');
    expect(ortSettingsFor(llama2c(INT8_PARAMETER_LIMIT), isolated).dtype).toBe('auto');
  });
});
