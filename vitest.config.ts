import { defineConfig } from 'vitest/config';

// Two projects: `unit` (beside the code, in-memory adapters, fast, parallel) and `integration`
// (real servers started once by the global setup, files run one at a time).
export default defineConfig({
  test: {
    // CI also writes a JSON report so .ci/run can print a plain "N passed, N failed" line.
    reporters: process.env['CI'] === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['bridge/**/*.test.ts', 'adapters/**/*.test.ts', 'sdk/**/*.test.ts', 'bench/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['integration/**/*.test.ts'],
          globalSetup: ['integration/global-setup.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
