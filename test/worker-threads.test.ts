/**
 * worker_threads: 8 workers load the addon and evaluate concurrently while the
 * main thread swaps snapshots (scripts/worker-stress.js). It runs in a child
 * process so a native crash shows up as a signal or exit code here instead of
 * killing the test runner. Uses the compiled engine (dist/cjs), rebuilt by the
 * global setup when missing or older than src/.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { nativeAddonLoaded } from './support/engine';

const root = join(__dirname, '..');

/** The stress script's exit status, signal and output (it is killed with SIGTERM after two minutes). */
function runStress(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(root, 'scripts', 'worker-stress.js'), ...args],
      { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1', ...env }, encoding: 'utf8', timeout: 120_000 },
      (_err, stdout, stderr) => resolve({ status: child.exitCode, signal: child.signalCode, out: `${stdout}${stderr}` }),
    );
  });
}

// Three separate processes: side by side, the waits of one (worker start-ups, terminations) overlap the others' work.
describe.concurrent('worker_threads', () => {
  it('8 workers evaluate on the native engine while the main thread swaps snapshots; clean exit', async ({ expect, skip }) => {
    const expectKind = process.env.AMPLITUDE_EXPERIMENT_ENGINE === 'js' ? 'js' : 'native';
    skip(expectKind === 'native' && !nativeAddonLoaded, 'needs the native addon');
    const r = await runStress({ WORKERS: '8', ITERATIONS: '2000', SWAPS: '50' }, ['--expect', expectKind]);
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`PASS engine=${expectKind} 8 workers`));
  }, 150_000);

  // Without the guard in the native callback host (and the addon's
  // NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS) this aborted the process with
  // "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw" in most runs.
  it('workers terminated in the middle of evaluations that call back into JavaScript: no abort', async ({ expect, skip }) => {
    const expectKind = process.env.AMPLITUDE_EXPERIMENT_ENGINE === 'js' ? 'js' : 'native';
    skip(expectKind === 'native' && !nativeAddonLoaded, 'needs the native addon');
    const r = await runStress({}, ['--expect', expectKind, '--terminate', '40']);
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/PASS 40 workers terminated mid-evaluation/);
  }, 150_000);

  it('the same on the JS fallback engine', async ({ expect }) => {
    const r = await runStress({ WORKERS: '8', ITERATIONS: '500', SWAPS: '20', AMPLITUDE_EXPERIMENT_ENGINE: 'js' }, [
      '--expect',
      'js',
    ]);
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
  }, 150_000);
});
