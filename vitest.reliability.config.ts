import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: faults and hostile input against the whole system (see
// docs/reliability.md). Files run one at a time: each kills and restarts real processes.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/reliability/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
