import { ModelFormatError, type ModelSpec, UnsupportedFeatureError } from '@slmkit/core';
import type { InferenceSession } from 'onnxruntime-common';
import { INPUTS_EMBEDS, pastKeyName, pastValueName, presentKeyName, presentValueName } from './export/llama-graph.js';
import { SLOT_NAMES } from './export/slot-layers.js';
import type { OnnxGraphIo } from './onnx-sequence.js';
import type { OrtRuntime } from './runtime/runtime-seam.js';

/**
 * Checks that a session has Optimum's decoder-with-past I/O for `spec` and describes it for sequences. Throws
 * ModelFormatError naming the first missing input or output.
 */
export function describeGraphIo(
  session: InferenceSession,
  runtime: OrtRuntime,
  spec: ModelSpec,
  headDim: number,
  file: string,
): OnnxGraphIo {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const requireName = (set: Set<string>, name: string, kind: string) => {
    if (!set.has(name)) {
      throw new ModelFormatError(
        `the ONNX graph has no ${kind} "${name}" (a decoder with KV cache needs input_ids, past_key_values.{i}.key/value -> logits, present.{i}.key/value); it has ${kind}s: ${[...set].join(', ') || 'none'}`,
        { file, field: name },
      );
    }
  };
  const slots = inputs.has(SLOT_NAMES.pastBias);
  // KV-slot graphs of untied models may take embedding rows (gathered by EmbeddingRows) instead of ids.
  const embedsIn = slots && inputs.has(INPUTS_EMBEDS);
  if (!embedsIn) requireName(inputs, 'input_ids', 'input');
  requireName(outputs, 'logits', 'output');
  for (let l = 0; l < spec.nLayers; l++) {
    if (slots) {
      requireName(inputs, SLOT_NAMES.cacheKeyT(l), 'input');
      requireName(inputs, SLOT_NAMES.cacheValue(l), 'input');
      requireName(outputs, SLOT_NAMES.newKeyT(l), 'output');
      requireName(outputs, SLOT_NAMES.newValue(l), 'output');
    } else {
      requireName(inputs, pastKeyName(l), 'input');
      requireName(inputs, pastValueName(l), 'input');
      requireName(outputs, presentKeyName(l), 'output');
      requireName(outputs, presentValueName(l), 'output');
    }
  }
  if (slots) requireName(inputs, 'position_ids', 'input');
  const cacheInput = (n: string) =>
    slots
      ? n.startsWith('cache.') || n === SLOT_NAMES.pastBias || n === SLOT_NAMES.logitsFrom
      : n.startsWith('past_key_values.');
  const tokenInputs = ['input_ids', 'attention_mask', 'position_ids', ...(embedsIn ? [INPUTS_EMBEDS] : [])];
  const extra = [...inputs].filter((n) => !cacheInput(n) && !tokenInputs.includes(n));
  if (extra.length > 0) {
    throw new UnsupportedFeatureError(`the ONNX graph has inputs this backend does not feed: ${extra.join(', ')}`, {
      file,
      field: extra[0],
    });
  }
  const metadata = (session as { inputMetadata?: readonly { name: string; isTensor: boolean; type?: string }[] })
    .inputMetadata;
  const pastType = metadata?.find((m) => m.name === (slots ? SLOT_NAMES.cacheKeyT(0) : pastKeyName(0)))?.type;
  if (pastType !== undefined && pastType !== 'float32') {
    throw new UnsupportedFeatureError(`KV cache inputs of type ${pastType} are not supported (float32 only)`, {
      file,
      field: pastKeyName(0),
    });
  }
  return {
    session,
    runtime,
    vocabSize: spec.vocabSize,
    layers: spec.nLayers,
    kvHeads: spec.nKvHeads,
    headDim,
    hasAttentionMask: inputs.has('attention_mask'),
    hasPositionIds: inputs.has('position_ids'),
    pastKey: pastKeyName,
    pastValue: pastValueName,
    presentKey: presentKeyName,
    presentValue: presentValueName,
    preallocateOutputs: runtime.name === 'onnxruntime-node',
    ownsOutputs: runtime.name === 'onnxruntime-node',
    kvLayout: slots ? 'slots' : 'optimum',
    hasLogitsFrom: inputs.has(SLOT_NAMES.logitsFrom),
    file,
  };
}
