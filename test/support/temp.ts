/**
 * Temporary folders that are always removed: after the test (tempDir), after
 * the file (useTempDir), and, should a hook never run (a crashed worker), when
 * the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

const live = new Set<string>();
process.once('exit', () => {
  for (const dir of live) remove(dir);
});

/** A folder whose owner removes it (removeTempDir); whatever is left is removed when the process exits. */
export function create(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `aen-test-${prefix}-`));
  live.add(dir);
  return dir;
}

export function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

/** A fresh folder for the running test, removed when it finishes (pass or fail). Call inside a test. */
export function tempDir(prefix = 'tmp'): string {
  const dir = create(prefix);
  onTestFinished(() => remove(dir));
  return dir;
}

/** A folder for the whole file: created before its first test, removed after its last. Call at file or describe level. */
export function useTempDir(prefix = 'tmp'): { readonly path: string } {
  let dir: string | undefined;
  beforeAll(() => {
    dir = create(prefix);
  });
  afterAll(() => {
    if (dir) remove(dir);
  });
  return {
    get path(): string {
      if (!dir) throw new Error('useTempDir: the folder exists only while the file runs (in tests and hooks)');
      return dir;
    },
  };
}
