/**
 * worker_threads: 8 workers load the addon and evaluate concurrently while the
 * main thread swaps snapshots (scripts/worker-stress.js). It runs in a child
 * process so a native crash shows up as a signal or exit code here instead of
 * killing the test runner. Uses the compiled engine (dist/cjs), rebuilt by the
 * global setup when missing or older than src/.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddonLoaded } from './support/engine';

const root = join(__dirname, '..');

function runStress(env: Record<string, string>, args: string[] = []) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'worker-stress.js'), ...args], {
    cwd: root,
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

describe('worker_threads', () => {
  it('8 workers evaluate on the native engine while the main thread swaps snapshots; clean exit', (ctx) => {
    const expectKind = process.env.AMPLITUDE_EXPERIMENT_ENGINE === 'js' ? 'js' : 'native';
    ctx.skip(expectKind === 'native' && !nativeAddonLoaded, 'needs the native addon');
    const r = runStress({ WORKERS: '8', ITERATIONS: '2000', SWAPS: '50' }, ['--expect', expectKind]);
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`PASS engine=${expectKind} 8 workers`));
  }, 150_000);

  // Without the guard in the native callback host (and the addon's
  // NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS) this aborted the process with
  // "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw" in most runs.
  it('workers terminated in the middle of evaluations that call back into JavaScript: no abort', (ctx) => {
    const expectKind = process.env.AMPLITUDE_EXPERIMENT_ENGINE === 'js' ? 'js' : 'native';
    ctx.skip(expectKind === 'native' && !nativeAddonLoaded, 'needs the native addon');
    const r = runStress({}, ['--expect', expectKind, '--terminate', '40']);
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/PASS 40 workers terminated mid-evaluation/);
  }, 150_000);

  it('the same on the JS fallback engine', () => {
    const r = runStress({ WORKERS: '8', ITERATIONS: '500', SWAPS: '20', AMPLITUDE_EXPERIMENT_ENGINE: 'js' }, ['--expect', 'js']);
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
  }, 150_000);
});
