import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, baseDelay, MIN_DELAY_MILLIS, sleep } from '../../src/util/backoff';
import { tempDir } from '../support';

const official = { minMillis: 500, maxMillis: 10000, scalar: 1.5 };

/** Deterministic random source cycling through the given values. */
function seq(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('backoff schedule', () => {
  it('follows min × scalar^n capped at max (the official SDK schedule)', () => {
    const expected = [500, 750, 1125, 1687.5, 2531.25, 3796.875, 5695.3125, 8542.96875, 10000, 10000];
    expect(expected.map((_, i) => baseDelay(official, i))).toEqual(expected);
  });

  it('with random 0 the delay is exactly the schedule', () => {
    const opts = { ...official, random: () => 0 };
    for (let i = 0; i < 12; i++) expect(backoffDelay(opts, i)).toBe(baseDelay(official, i));
  });

  it('jitter never shortens the delay and never exceeds min(max, base × 1.1)', () => {
    const randoms = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999];
    for (const r of randoms) {
      for (let i = 0; i < 15; i++) {
        const base = baseDelay(official, i);
        const d = backoffDelay({ ...official, random: () => r }, i);
        expect(d).toBeGreaterThanOrEqual(base);
        expect(d).toBeLessThanOrEqual(Math.min(official.maxMillis, base * 1.1));
      }
    }
  });

  it('jitter actually spreads delays (upper end reached below the cap)', () => {
    expect(backoffDelay({ ...official, random: () => 0.999 }, 0)).toBeCloseTo(500 * 1.0999, 5);
    // At the cap the jitter cannot push past max.
    expect(backoffDelay({ ...official, random: () => 0.999 }, 20)).toBe(10000);
    // Just below the cap: clipped to max.
    expect(backoffDelay({ minMillis: 9500, maxMillis: 10000, scalar: 1, random: () => 0.9 }, 0)).toBe(10000);
  });

  it('custom jitter fraction', () => {
    const d = backoffDelay({ minMillis: 100, maxMillis: 1000, scalar: 2, jitter: 0.5, random: () => 1 }, 1);
    expect(d).toBe(300);
    expect(backoffDelay({ minMillis: 100, maxMillis: 1000, scalar: 2, jitter: 0, random: () => 1 }, 1)).toBe(200);
  });

  it('a bad random source is clamped to [0, 1]', () => {
    for (const r of [NaN, -5, 7, Infinity, -Infinity]) {
      const d = backoffDelay({ ...official, random: () => r }, 1);
      expect(d).toBeGreaterThanOrEqual(750);
      expect(d).toBeLessThanOrEqual(825);
    }
  });

  it('never yields a zero, negative, NaN or infinite delay, whatever the options', () => {
    const cases = [
      { minMillis: 0, maxMillis: 0, scalar: 0 },
      { minMillis: -10, maxMillis: -5, scalar: -1 },
      { minMillis: NaN, maxMillis: NaN, scalar: NaN },
      { minMillis: 100, maxMillis: 50, scalar: 0.5 },
      { minMillis: Infinity, maxMillis: Infinity, scalar: Infinity },
    ];
    for (const c of cases) {
      for (const attempt of [0, 1, 5, 1000, 1e9, -3, NaN]) {
        const d = backoffDelay({ ...c, random: () => 0.5 }, attempt);
        expect(Number.isFinite(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(MIN_DELAY_MILLIS);
      }
    }
  });

  it('max below min is raised to min; scalar below 1 does not shrink the delay', () => {
    expect(baseDelay({ minMillis: 100, maxMillis: 50, scalar: 2 }, 3)).toBe(100);
    expect(baseDelay({ minMillis: 100, maxMillis: 1000, scalar: 0.5 }, 3)).toBe(100);
  });

  it('huge attempt numbers cap at max instead of overflowing', () => {
    expect(backoffDelay({ ...official, random: () => 0.5 }, 100000)).toBe(10000);
  });

  it('Backoff.next walks the schedule and reset restarts it', () => {
    const b = new Backoff({ minMillis: 10, maxMillis: 100, scalar: 2, random: seq(0) });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 80, 100]);
    expect(b.attempt).toBe(5);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(10);
    expect(b.delay(2)).toBe(40);
  });
});

describe('sleep', () => {
  it('waits at least the given time', async () => {
    const start = performance.now();
    await sleep(50);
    // Timers may fire up to ~1 ms early relative to performance.now() rounding.
    expect(performance.now() - start).toBeGreaterThanOrEqual(49);
  });

  it('rejects at once with the reason when the signal is already aborted', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(sleep(60_000, { signal: ac.signal })).rejects.toBe(reason);
  });

  it('rejects promptly when the signal aborts during the wait', async () => {
    const ac = new AbortController();
    const start = performance.now();
    setTimeout(() => ac.abort(new Error('cancelled')), 20);
    await expect(sleep(60_000, { signal: ac.signal })).rejects.toThrow('cancelled');
    // Far below the 60 s sleep: the abort, not the timer, ended it.
    expect(performance.now() - start).toBeLessThan(30_000);
  });

  it('rejects with an AbortError when aborted without a reason', async () => {
    const ac = new AbortController();
    const p = sleep(60_000, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('treats negative and non-finite waits as 0', async () => {
    await sleep(-5);
    await sleep(NaN);
  });

  it('does not keep the process alive by default, and does with unref: false', () => {
    // Run the compiled helper in a child process: with an unref'd timer the
    // process exits at once although the sleep is still pending.
    const dir = tempDir('backoff');
    const source = readFileSync(join(__dirname, '../../src/util/backoff.ts'), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, 'backoff.js'), js.outputText);
    const run = (code: string) => spawnSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8', timeout: 50_000 });

    const unrefd = run(
      "const {sleep}=require('./backoff.js'); sleep(40000).then(()=>console.log('slept')); console.log('started')",
    );
    expect(unrefd.status).toBe(0);
    expect(unrefd.stdout.trim()).toBe('started');

    const refd = run(
      "const {sleep}=require('./backoff.js'); sleep(100,{unref:false}).then(()=>console.log('slept')); console.log('started')",
    );
    expect(refd.status).toBe(0);
    expect(refd.stdout.trim().split('\n')).toEqual(['started', 'slept']);
  });
});
