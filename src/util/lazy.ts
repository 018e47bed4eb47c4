/**
 * A value computed on first use, then kept: how the SDK defers loading its
 * dependencies (undici, analytics-node, the JS engine...) until a code path
 * needs them, so `require()` of the package stays cheap for serverless cold
 * starts and small services.
 *
 * Call sites pass a thunk with a literal `require('name')` in it, never a
 * module name as a string: bundlers and file tracers (@vercel/nft, esbuild,
 * webpack) must still see which modules the package uses. The package's own
 * modules are loaded the same way (`require('./module') as typeof
 * import('./module')`, with `import type` for their types); under vitest a
 * plugin in vitest.config.mts turns those requires into static imports, and
 * test/package/lazy-loading.test.ts checks the built package.
 */
export function lazy<T>(load: () => T): () => T {
  let loaded = false;
  let value: T | undefined;
  return () => {
    if (!loaded) {
      value = load();
      loaded = true;
    }
    return value as T;
  };
}
