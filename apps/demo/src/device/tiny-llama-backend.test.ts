import { runConformanceSuite } from '@slmkit/core/testing';
import { describe, it } from 'vitest';
import { createTinyLlamaBackend } from './tiny-llama-backend.js';

// Core's conformance suite (goldens, stories260K token for token, cache reuse, errors) against the demo's in-page
// runtime.
runConformanceSuite(
  { describe, it, skip: it.skip },
  {
    name: 'tinyjs',
    createBackend: () => createTinyLlamaBackend(),
    exclusions: { embeddings: 'the in-browser demo backend computes logits only; it does not expose hidden states' },
  },
);
