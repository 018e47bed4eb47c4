import { defineConfig } from 'vitest/config';
import { lazyRequire } from './test/support/lazy-require';

export default defineConfig({
  // src/ requires some of its own modules lazily; under vitest they are imported (see the plugin).
  plugins: [lazyRequire()],
  test: {
    include: ['test/**/*.test.ts'],
    // Says once which engine loaded and what to install when the addon is missing.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: one fork per core keeps native builds and servers from starving each other.
    pool: 'forks',
    maxWorkers: 2,
  },
});
