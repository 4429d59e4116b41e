import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests first: they fail fast, before the database suites start.
          sequence: { groupOrder: 0 },
          // A few ask a Python oracle (oslo.policy, json): seconds on a loaded two-core machine.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: more workers only make the database servers thrash.
          maxWorkers: 2,
        },
      },
    ],
  },
});
