import { defineConfig } from 'vitest/config';

// Benchmarks are scripts, not tests: `npx vitest run --config packages/backend-tfjs/bench/vitest.bench.config.ts <name>`.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/backend-tfjs/bench/**/*.run.ts'],
    testTimeout: 3_600_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
