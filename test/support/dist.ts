/**
 * dist/ (from `npm run build:ts`) is what child processes, examples and
 * bundler tests load. `npm test` builds it first; a single file run with
 * `npx vitest run` after editing src/ would otherwise test a stale build, so
 * the global setup rebuilds it once when any src/ file is newer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
/** Files the tests load from dist/ (a build writes them all). */
const OUTPUTS = ['dist/cjs/index.js', 'dist/cjs/engine/index.js', 'dist/cjs/local/client.js', 'dist/esm/index.js'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function distIsCurrent(): boolean {
  const src = newestMtime(join(root, 'src'));
  return OUTPUTS.every((f) => existsSync(join(root, f)) && statSync(join(root, f)).mtimeMs >= src);
}

/** Build dist/ when it is missing or older than src/; returns true when it built. */
export function ensureDistBuilt(): boolean {
  if (distIsCurrent()) return false;
  const r = spawnSync('npm', ['run', 'build:ts'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`building dist/ failed (npm run build:ts):\n${r.stdout}${r.stderr}`);
  return true;
}
