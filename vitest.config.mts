import { defineConfig } from 'vitest/config';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import LongestFirstSequencer from './test/support/sequencer';

/**
 * The package loads some of its own modules on first use, with a literal
 * `require('./module')` inside a thunk (src/util/lazy.ts): in dist/ that is
 * Node's require of a .js file. Vitest runs src/ as ES modules through Vite,
 * where `require` cannot load a .ts file, so this plugin turns each relative
 * require in src/ into a static import of the same module. Under vitest those
 * modules then load with their importer (as they would without laziness);
 * the code that uses them is the same. test/package/lazy-loading.test.ts
 * checks on the built package that they are not loaded at require time, and
 * runs each of those requires.
 */

/** The part of a Vite plugin this one uses (vite's own types need moduleResolution "bundler"). */
interface TransformPlugin {
  name: string;
  enforce: 'pre';
  transform(code: string, id: string): { code: string; map: null } | null;
}

const SRC = fileURLToPath(new URL('./src/', import.meta.url));
const RELATIVE_REQUIRE = /\brequire\((['"])(\.\.?\/[^'"]+)\1\)/g;

function lazyRequire(): TransformPlugin {
  return {
    name: 'amplitude-experiment-native:lazy-require',
    enforce: 'pre',
    transform(code, id) {
      if (!id.startsWith(SRC) || !id.endsWith('.ts')) return null;
      const imports: string[] = [];
      const out = code.replace(RELATIVE_REQUIRE, (_match: string, _quote: string, specifier: string) => {
        const name = `__lazyRequire${imports.length}`;
        imports.push(`import * as ${name} from ${JSON.stringify(specifier)};`);
        return name;
      });
      if (imports.length === 0) return null;
      // On the first line, so that line numbers in stack traces stay those of the file.
      return { code: imports.join(' ') + ' ' + out, map: null };
    },
  };
}

export default defineConfig({
  plugins: [lazyRequire()],
  test: {
    include: ['test/**/*.test.ts'],
    // Says once which engine loaded and what to install when the addon is missing.
    globalSetup: ['test/support/global-setup.ts'],
    // Puts back what a file changed in the shared worker process (environment, spies).
    setupFiles: ['test/support/file-setup.ts'],
    // The longest files first, also without vitest's cache of durations (CI); shuffled under --sequence.shuffle.
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One fork more than there are cores (at most 4): many files spend much of their time waiting (on local
    // servers, Redis, child processes, timers), and a spare fork runs another file meanwhile. More than that
    // starves the CPU-bound files (native builds, bundlers, worker-thread stress) and multiplies the Redis
    // servers running at once.
    pool: 'forks',
    maxWorkers: Math.min(availableParallelism() + 1, 4),
    // Files run one after another in the same few forks instead of a new fork each: the SDK,
    // the addon and vitest are loaded once per fork, not once per file (about a quarter of the
    // CPU time). Tests keep no state between files; file-setup.ts restores what they change.
    isolate: false,
  },
});
