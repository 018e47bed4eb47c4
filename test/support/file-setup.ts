/**
 * Runs around every test file. Files share a worker process (isolate: false
 * in vitest.config.mts, which saves re-importing the SDK and vitest for each
 * file), so whatever a file changes in the process is put back when it ends:
 * environment variables and spies. A file never sees another file's leftovers.
 */
import { afterAll, beforeAll, vi } from 'vitest';

let env: Record<string, string | undefined> = {};

beforeAll(() => {
  env = { ...process.env };
});

afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (process.env[name] !== value) process.env[name] = value;
});
