import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelData } from '@slmkit/core/node';
import { runConformanceSuite } from '@slmkit/core/testing';
import { afterAll, describe, it } from 'vitest';
import { createOnnxBackend, exportOnnxFolder } from './index.js';

const work = mkdtempSync(join(tmpdir(), 'slmkit-onnx-conformance-'));
const memoryBackend = createOnnxBackend();
const folderBackend = createOnnxBackend({ cacheDir: join(work, 'cache') });
afterAll(async () => {
  await memoryBackend.dispose();
  await folderBackend.dispose();
  rmSync(work, { recursive: true, force: true });
});

// ModelData -> ONNX bytes in memory -> onnxruntime-node session.
runConformanceSuite(
  { describe, it, skip: it.skip },
  {
    name: 'onnx (onnxruntime-node, in-memory fp32 export)',
    createBackend: () => memoryBackend,
    prepareStories260K: (paths) => loadModelData({ path: paths.model, tokenizerPath: paths.tokenizer }),
  },
);

// ModelData -> HF-layout folder on disk (config.json, tokenizer.json, onnx/model.onnx) -> loaded by path;
// stories260K: the llama2.c checkpoint path, exported on the fly into the cache folder.
let fixtureDir: string | undefined;
runConformanceSuite(
  { describe, it, skip: it.skip },
  {
    name: 'onnx (onnxruntime-node, exported HF folder)',
    createBackend: () => folderBackend,
    async prepareFixture(fixture) {
      if (!fixtureDir) {
        fixtureDir = join(work, 'fixture');
        await exportOnnxFolder(fixture, fixtureDir, { variants: ['fp32'] });
      }
      return fixtureDir;
    },
    prepareStories260K: async (paths) => ({ path: paths.model, tokenizerPath: paths.tokenizer }),
  },
);

// The fused-operator graph (GroupQueryAttention with RoPE caches, SimplifiedLayerNormalization), in memory.
const fusedBackend = createOnnxBackend({ fused: true });
afterAll(() => fusedBackend.dispose());
runConformanceSuite(
  { describe, it, skip: it.skip },
  {
    name: 'onnx (onnxruntime-node, in-memory fused-operator export)',
    createBackend: () => fusedBackend,
    prepareStories260K: (paths) => loadModelData({ path: paths.model, tokenizerPath: paths.tokenizer }),
  },
);
