import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Says once which engine loaded and what to install when the addon is missing.
    globalSetup: ['test/support/global-setup.ts'],
    // Puts back what a file changed in the shared worker process (environment, spies).
    setupFiles: ['test/support/file-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: one fork per core keeps native builds and servers from starving each other.
    pool: 'forks',
    maxWorkers: 2,
    // Files run one after another in the same two forks instead of a new fork each: the SDK,
    // the addon and vitest are loaded twice per run, not 58 times (about a quarter of the CPU
    // time). Tests keep no state between files; file-setup.ts restores what they change.
    isolate: false,
  },
});
