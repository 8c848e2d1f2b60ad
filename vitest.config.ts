import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The reliability suite runs on its own (`npm run test:reliability`, vitest.reliability.config.ts).
    exclude: ['test/reliability/**', '**/node_modules/**'],
    // Temporal's native bridge misbehaves in worker threads; forks give each file its own process.
    pool: 'forks',
    // Vitest runs one file at a time on a 2-core machine (its default is the cores less one); most of
    // a file's time is spent waiting on real servers (Temporal, moto, Chromium), so two at once.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
