import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web UI: src/web -> dist/web, served by `slm serve` at `/`. Workspace packages resolve to their TypeScript
// sources (the "source" export condition), like the tests do.
export default defineConfig({
  root: fileURLToPath(new URL('./src/web', import.meta.url)),
  base: './',
  resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
