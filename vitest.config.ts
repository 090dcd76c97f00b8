import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

const alias = { '@shared': resolve(import.meta.dirname, 'src-shared') };

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        plugins: [vue()],
        test: {
          name: 'unit',
          setupFiles: ['test/fast-check-seed.ts'],
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // A hang guard, not a performance bound: property tests run hundreds of cases and share
          // two cores with the rest of the suite.
          testTimeout: 30_000,
          typecheck: {
            enabled: true,
            include: ['test/unit/**/*.test-d.ts'],
            tsconfig: './tsconfig.node.json',
          },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          setupFiles: ['test/fast-check-seed.ts'],
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Each file starts real servers and child processes; two cores run two files at a time.
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 30_000,
          hookTimeout: 60_000,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
