import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web UI: src/web -> dist/web, served by `slm serve` at `/`. Workspace packages resolve to their TypeScript
// sources (the "source" export condition), like the tests do. `onnxruntime-web-use-extern-wasm` picks the build of
// onnxruntime-web that loads its WASM files from `ort.env.wasm.wasmPaths` (served by `slm serve` under /ort/ from
// node_modules) instead of copying a 28 MB binary into the bundle.
export default defineConfig({
  root: fileURLToPath(new URL('./src/web', import.meta.url)),
  base: './',
  resolve: { conditions: ['source', 'browser', 'onnxruntime-web-use-extern-wasm', 'module', 'import', 'default'] },
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
