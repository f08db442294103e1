import {
  BackendError,
  checkForwardInput,
  type EmbedOptions,
  poolEmbedding,
  throwIfAborted,
  UnsupportedFeatureError,
} from '@slmkit/core';
import type { Tensor } from 'onnxruntime-common';
import { MASKED } from './export/layer-parts.js';
import { INPUTS_EMBEDS, LAST_HIDDEN_STATE } from './export/llama-graph.js';
import { SLOT_NAMES } from './export/slot-layers.js';
import type { OnnxGraphIo } from './onnx-sequence.js';

/** Whether the graph outputs the final hidden states (slmkit's exports do; most third-party decoders do not). */
export function hasHiddenStates(io: OnnxGraphIo): boolean {
  return io.session.outputNames.includes(LAST_HIDDEN_STATE);
}

/**
 * Pooled final hidden states of `tokens`: one run of the decoder from an empty KV cache that fetches only
 * `last_hidden_state` ([1, n, hidden], after the output norm). Graphs without that output (third-party exports)
 * throw UnsupportedFeatureError naming the file.
 */
export async function embedWithSession(
  io: OnnxGraphIo,
  contextSize: number,
  tokens: readonly number[],
  options: EmbedOptions = {},
): Promise<Float32Array> {
  if (!hasHiddenStates(io)) {
    throw new UnsupportedFeatureError(
      `the ONNX graph has no "${LAST_HIDDEN_STATE}" output, so it cannot give embeddings (re-export it with slmkit)`,
      { file: io.file, field: LAST_HIDDEN_STATE },
    );
  }
  checkForwardInput(tokens, 0, contextSize, io.vocabSize);
  throwIfAborted(options.signal, 'embed');
  const rt = io.runtime;
  const n = tokens.length;
  // Graphs that take `inputs_embeds` get the rows instead of the ids.
  const feeds: Record<string, Tensor> = io.embeddings
    ? { [INPUTS_EMBEDS]: rt.createTensor('float32', io.embeddings.rows(tokens), [1, n, io.embeddings.dim]) }
    : {
        input_ids: rt.createTensor(
          'int64',
          BigInt64Array.from(tokens, (t) => BigInt(t)),
          [1, n],
        ),
      };
  if (io.hasAttentionMask) feeds.attention_mask = rt.createTensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  if (io.hasPositionIds) {
    feeds.position_ids = rt.createTensor(
      'int64',
      BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
      [1, n],
    );
  }
  if (io.kvLayout === 'slots') {
    // One free slot (masked): the run attends to the new tokens only.
    feeds[SLOT_NAMES.pastBias] = rt.createTensor('float32', Float32Array.of(MASKED), [1, 1, 1, 1]);
    // Every input must be fed; logits are not fetched, so the smallest range.
    if (io.hasLogitsFrom) feeds[SLOT_NAMES.logitsFrom] = rt.createTensor('int64', BigInt64Array.of(BigInt(n - 1)), [1]);
    const zeros = new Float32Array(io.kvHeads * io.headDim);
    for (let l = 0; l < io.layers; l++) {
      feeds[SLOT_NAMES.cacheKeyT(l)] = rt.createTensor('float32', zeros, [1, io.kvHeads, io.headDim, 1]);
      feeds[SLOT_NAMES.cacheValue(l)] = rt.createTensor('float32', zeros, [1, io.kvHeads, 1, io.headDim]);
    }
  } else {
    const empty = new Float32Array(0);
    const pastDims = [1, io.kvHeads, 0, io.headDim];
    for (let l = 0; l < io.layers; l++) {
      feeds[io.pastKey(l)] = rt.createTensor('float32', empty, pastDims);
      feeds[io.pastValue(l)] = rt.createTensor('float32', empty, pastDims);
    }
  }
  let hidden: Tensor;
  try {
    hidden = (await io.session.run(feeds, [LAST_HIDDEN_STATE]))[LAST_HIDDEN_STATE];
  } catch (error) {
    throw new BackendError(`onnxruntime failed to run the decoder: ${(error as Error).message}`, {
      file: io.file,
      cause: error,
    });
  }
  const data = hidden.data;
  const dim = hidden.dims[2];
  if (!(data instanceof Float32Array) || hidden.dims.length !== 3 || hidden.dims[1] !== n || data.length !== n * dim) {
    throw new UnsupportedFeatureError(
      `"${LAST_HIDDEN_STATE}" has shape [${hidden.dims.join(', ')}] (${hidden.type}); expected float32 [1, ${n}, hidden]`,
      { file: io.file, field: LAST_HIDDEN_STATE },
    );
  }
  throwIfAborted(options.signal, 'embed');
  const rows = Array.from({ length: n }, (_, i) => data.subarray(i * dim, (i + 1) * dim));
  return poolEmbedding(rows, options);
}
