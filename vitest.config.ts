import { defineConfig } from 'vitest/config';
import SummaryReporter from './scripts/summary-reporter.js';

// One root config runs every package's tests; workspace packages resolve to their TypeScript sources
// through the "source" export condition, so a test never runs against a stale build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', new SummaryReporter()],
  },
});
