import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The reliability suite runs on its own (`npm run test:reliability`, vitest.reliability.config.ts).
    exclude: ['test/reliability/**', '**/node_modules/**'],
    // Temporal's native bridge misbehaves in worker threads; forks give each file its own process.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
