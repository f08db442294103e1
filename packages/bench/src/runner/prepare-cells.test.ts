import { describe, expect, it } from 'vitest';
import { expandCells, validateSuite } from '../suite/suite-file.js';
import { cellsToPrepare } from './prepare-cells.js';

describe('cellsToPrepare', () => {
  it('prepares each generated model once and each conversion once per (model, backend)', () => {
    const suite = validateSuite({
      name: 'p',
      models: [
        { id: 'gen', random: { preset: 'tiny', seed: 1 } },
        { id: 'bin', path: '/m/stories.bin', tokenizer: '/m/tok.bin' },
        { id: 'gguf', path: '/m/model.gguf' },
        { id: 'hf', path: '/m/stories.bin', onnx: '/m/onnx-folder' },
      ],
      backends: [
        { id: 'reference' },
        { id: 'llamacpp' },
        { id: 'onnx' },
        { id: 'onnx-int8', backend: 'onnx', options: { dtype: 'int8' } },
        { id: 'peer', kind: 'node-llama-cpp' },
      ],
      scenarios: [
        { id: 'speed', type: 'speed' },
        { id: 'greedy', type: 'generate', prompts: ['a'] },
      ],
    });
    const { cells } = expandCells({ suite, file: '/s/suite.json', dir: '/s' }, '/cache');
    const prepared = [...cellsToPrepare(cells)].map(
      (i) => `${cells[i].model.id}/${cells[i].backend.id}/${cells[i].scenario.id}`,
    );
    expect(prepared).toEqual([
      // generated once, by its first cell; onnx then exports it once (onnx-int8 shares the export)
      'gen/reference/speed',
      'gen/onnx/speed',
      // a llama2.c file: llama.cpp converts it to GGUF, onnx exports it, the peer converts it to GGUF
      'bin/llamacpp/speed',
      'bin/onnx/speed',
      'bin/peer/speed',
      // a GGUF file: llama.cpp and the peer read it as is
      'gguf/onnx/speed',
      // an entry with an ONNX folder: onnx reads it as is
      'hf/llamacpp/speed',
      'hf/peer/speed',
    ]);
  });
});
