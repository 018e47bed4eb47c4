#!/usr/bin/env node
'use strict';
/*
 * Soak test for the native engine: many evaluations, snapshot swaps and
 * cohort refreshes in one process, sampling RSS, V8 heap and external memory
 * after a full GC. Reports growth after warm-up and fails (exit 1) on an
 * upward trend: the least-squares slope over the second half of the samples,
 * projected over that half, must stay under a bound for each measure.
 *
 *   node --expose-gc scripts/soak.js [--evals 10000000] [--swaps 1000] [--refreshes 100]
 *                                    [--members 100000] [--samples 200] [--json out.json]
 *
 * Needs the TypeScript build (npm run build:ts) and the addon (npm run build:native);
 * AMPLITUDE_EXPERIMENT_NATIVE_BINARY=<path> soaks another build of the addon.
 * The engine and cohort store are driven directly (no network): every swap
 * parses a new payload (a different salt per swap, so nothing is reused),
 * every refresh downloads-parses a cohort body of --members ids into the same
 * cohort id (alternating two bodies so membership really changes), and the
 * users carry cohort ids resolved through the store as the client does.
 */
const path = require('path');
const fs = require('fs');

const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
}
const EVALS = Number(opt('evals', 10_000_000));
const SWAPS = Number(opt('swaps', 1000));
const REFRESHES = Number(opt('refreshes', 100));
const MEMBERS = Number(opt('members', 100_000));
const SAMPLES = Number(opt('samples', 200));
const JSON_OUT = opt('json', '');

if (typeof global.gc !== 'function') {
  // Re-exec with --expose-gc: samples are taken after a full collection.
  const { spawnSync } = require('child_process');
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const root = path.resolve(__dirname, '..');
process.env.AMPLITUDE_EXPERIMENT_ENGINE = 'native';
const { loadEngine, engineLoadInfo } = require(path.join(root, 'dist/cjs/engine/index.js'));
const { createCohortStore } = require(path.join(root, 'dist/cjs/engine/cohort-store.js'));

const engine = loadEngine();
const baseFlags = JSON.parse(fs.readFileSync(path.join(root, 'examples/flags.json'), 'utf8'));
const cohortFlag = {
  key: 'soak-cohort',
  metadata: { flagType: 'release' },
  segments: [
    {
      conditions: [[{ selector: ['context', 'user', 'cohort_ids'], op: 'set contains any', values: ['soak-c1'] }]],
      variant: 'on',
    },
    { variant: 'off' },
  ],
  variants: { on: { key: 'on', value: 'on' }, off: { key: 'off' } },
};

function payload(swap) {
  // Same flags, a different salt and payload per swap: a fresh parse each time.
  const flags = structuredClone(baseFlags).concat([structuredClone(cohortFlag)]);
  for (const f of flags) {
    for (const s of f.segments) if (s.bucket) s.bucket.salt = `soak-${swap}`;
    for (const v of Object.values(f.variants)) if (v.payload !== undefined || v.key === 'on') v.payload = { swap };
  }
  return JSON.stringify(flags);
}

function cohortBody(refresh) {
  // Even refreshes: u0..u(n-1); odd: u1, u3, ... plus new ids, so membership changes.
  const ids = [];
  for (let i = 0; i < MEMBERS; i++) ids.push(refresh % 2 === 0 ? `u${i}` : `u${2 * i + 1}`);
  return new TextEncoder().encode(
    JSON.stringify({
      cohortId: 'soak-c1',
      groupType: 'User',
      groupTypeId: 0,
      lastComputed: refresh,
      lastModified: refresh,
      size: ids.length,
      memberIds: ids,
    }),
  );
}

const platforms = ['iOS', 'Android', 'Web'];
function user(i) {
  return {
    user_id: i % 7 === 0 ? `u${i % 50_000}@example.com` : `u${i % 200_000}`,
    device_id: `d${i % 100_003}`,
    platform: platforms[i % 3],
    version: `${i % 5}.${i % 11}.${i % 3}`,
    user_properties: { plan: i % 4 === 0 ? 'premium' : 'free', n: i % 1000 },
    groups: i % 5 === 0 ? { org: [`org${i % 17}`] } : undefined,
    group_properties: i % 5 === 0 ? { org: { [`org${i % 17}`]: { tier: 'enterprise' } } } : undefined,
  };
}

function mb(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main() {
  const store = createCohortStore('native');
  if (store.kind !== 'native') throw new Error('native cohort store did not load');
  const bodies = [cohortBody(0), cohortBody(1)];
  let snapshot = engine.load(payload(0));
  await store.load(bodies[0], 'soak-c1');

  const swapEvery = Math.max(1, Math.floor(EVALS / SWAPS));
  const refreshEvery = Math.max(1, Math.floor(EVALS / REFRESHES));
  const sampleEvery = Math.max(1, Math.floor(EVALS / SAMPLES));
  const chunk = Math.min(swapEvery, refreshEvery, sampleEvery, 10_000);
  const samples = [];
  let swaps = 0;
  let refreshes = 0;
  let checksum = 0;
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();

  for (let i = 0; i < EVALS;) {
    const end = Math.min(EVALS, i + chunk);
    for (; i < end; i++) {
      const u = user(i);
      // As the client enriches a user: cohort ids the store says they are in.
      const ids = store.memberOf('User', u.user_id, ['soak-c1']);
      if (ids.length > 0) u.cohort_ids = ids;
      const variants = i % 3 === 0 ? snapshot.evaluate(u, ['search-ranking', 'soak-cohort']) : snapshot.evaluate(u);
      const v = variants['soak-cohort'];
      if (v && v.key === 'on') checksum++;
    }
    if (i % swapEvery === 0 && swaps < SWAPS) {
      swaps++;
      snapshot = engine.load(payload(swaps));
    }
    if (i % refreshEvery === 0 && refreshes < REFRESHES) {
      refreshes++;
      await store.load(bodies[refreshes % 2], 'soak-c1');
    }
    if (i % sampleEvery === 0 || i === EVALS) {
      await new Promise((r) => setImmediate(r)); // let finalizers of swapped snapshots run
      global.gc();
      const m = process.memoryUsage();
      samples.push({ evals: i, rss: m.rss, heapUsed: m.heapUsed, external: m.external, cohortBytes: store.memoryBytes() });
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);

  // Warm-up: the first 10% of samples. Trend: the second half.
  const warm = samples[Math.floor(samples.length / 10)];
  const last = samples[samples.length - 1];
  const half = samples.slice(Math.floor(samples.length / 2));
  const xs = half.map((s) => s.evals);
  const span = xs[xs.length - 1] - xs[0];
  // Bounds on the growth a linear trend would add over the second half: a
  // leak of even 100 bytes per evaluation would be ~500 MB here; allocator
  // and GC noise is a few MB.
  const bounds = { rss: 16 * 1048576, heapUsed: 4 * 1048576, external: 4 * 1048576 };
  const measures = ['rss', 'heapUsed', 'external'];
  const report = {
    engine: engineLoadInfo(),
    evaluations: EVALS,
    snapshotSwaps: swaps,
    cohortRefreshes: refreshes,
    cohortMembers: MEMBERS,
    samples: samples.length,
    seconds: Number(seconds.toFixed(1)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    evalsPerSecond: Math.round(EVALS / seconds),
    cohortMatches: checksum,
    measures: {},
  };
  let failed = false;
  for (const m of measures) {
    const s = slope(
      xs,
      half.map((h) => h[m]),
    );
    const projected = s * span;
    const ok = projected < bounds[m];
    if (!ok) failed = true;
    report.measures[m] = {
      start: samples[0][m],
      afterWarmup: warm[m],
      end: last[m],
      min: Math.min(...samples.map((x) => x[m])),
      max: Math.max(...samples.map((x) => x[m])),
      growthAfterWarmup: last[m] - warm[m],
      secondHalfSlopeBytesPerMillionEvals: Math.round(s * 1e6),
      secondHalfTrendBytes: Math.round(projected),
      bound: bounds[m],
      ok,
    };
  }
  console.log(
    `soak: ${EVALS} evaluations, ${swaps} snapshot swaps, ${refreshes} cohort refreshes (${MEMBERS} members) ` +
      `in ${report.seconds}s (${report.evalsPerSecond}/s), ${samples.length} samples`,
  );
  console.log('measure    start MB  after warm-up  end MB   min..max MB      growth after warm-up  2nd-half trend');
  for (const m of measures) {
    const r = report.measures[m];
    console.log(
      `${m.padEnd(9)} ${mb(r.start).padStart(8)} ${mb(r.afterWarmup).padStart(14)} ${mb(r.end).padStart(7)}   ` +
        `${`${mb(r.min)}..${mb(r.max)}`.padEnd(16)} ${`${(r.growthAfterWarmup / 1024).toFixed(0)} KB`.padStart(20)}  ` +
        `${(r.secondHalfTrendBytes / 1024).toFixed(0)} KB (bound ${mb(r.bound)} MB) ${r.ok ? 'ok' : 'UPWARD TREND'}`,
    );
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ report, samples }, null, 1));
  if (failed) {
    console.error('soak: FAILED (upward trend)');
    process.exit(1);
  }
  console.log('soak: ok (no upward trend)');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
