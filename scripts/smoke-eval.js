#!/usr/bin/env node
'use strict';
// Evaluator conformance smoke test, in plain CommonJS so it runs anywhere the
// package is installed: under qemu (scripts/test-arm64.sh), in a freshly
// installed tarball (scripts/test-pack.sh), or in the repo after a build.
//
// usage: node scripts/smoke-eval.js [--pkg <package root>] [--expect native|js] [--json]
//   --pkg     where the built package is (default: this repo); loads <pkg>/dist/cjs/engine
//   --expect  fail unless this engine kind is the one that loaded
//   --json    print one JSON line with the results (used to compare two runs)
//
// Checks (expected values from running @amplitude/experiment-core 0.13.1,
// the official engine):
//   1. murmur3 x86_32 seed 0: an independent JS implementation reproduces the
//      three published seed-0 vectors; then a 100-allocation x 2-distribution
//      flag checks that the engine's bucket for 200 ids (ASCII, CJK, emoji,
//      lone surrogates are excluded: the engines are only required to agree on
//      valid UTF-16 here) equals h % 100 and floor(h / 100) of that hash;
//   2. the 50/50 experiment with a dependent flag, six users, deep-equal to the
//      official engine's results;
//   3. flagKeys: a subset returns the requested flag plus its dependency;
//      empty = all; unknown keys are absent;
//   4. a non-string variant value is JSON-stringified, like the official SDK.

const fs = require('fs');
const path = require('path');

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const pkgRoot = path.resolve(opt('--pkg') || path.join(__dirname, '..'));
const expect = opt('--expect');
const asJson = argv.includes('--json');

// ---------------------------------------------------------------- murmur3 ---
function murmur3(str, seed) {
  const bytes = Buffer.from(str, 'utf8');
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const nblocks = bytes.length >> 2;
  for (let i = 0; i < nblocks; i++) {
    let k = bytes.readUInt32LE(i * 4);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = nblocks * 4;
  switch (bytes.length & 3) {
    case 3:
      k ^= bytes[tail + 2] << 16;
    // falls through
    case 2:
      k ^= bytes[tail + 1] << 8;
    // falls through
    case 1:
      k ^= bytes[tail];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const vectors = [
  ['My hovercraft is full of eels.', 2953494853],
  ['My 🚀 is full of 🦎.', 1818098979],
  ['吉 星 高 照', 3435142074],
];
for (const [s, h] of vectors) check(murmur3(s, 0) === h, `murmur3 reference vector ${JSON.stringify(s)}`);

// ------------------------------------------------------------------ flags ---
const SALT = 'smoke';
const HALF = 21474837;
function bucketFlag() {
  const variants = { off: { key: 'off', metadata: { default: true } } };
  const allocations = [];
  for (let i = 0; i < 100; i++) {
    variants[`a${i}-lo`] = { key: `a${i}-lo`, value: `a${i}-lo` };
    variants[`a${i}-hi`] = { key: `a${i}-hi`, value: `a${i}-hi` };
    allocations.push({
      range: [i, i + 1],
      distributions: [
        { variant: `a${i}-lo`, range: [0, HALF] },
        { variant: `a${i}-hi`, range: [HALF, 42949673] },
      ],
    });
  }
  return {
    key: 'bucket-probe',
    segments: [{ bucket: { selector: ['context', 'user', 'device_id'], salt: SALT, allocations }, variant: 'off' }],
    variants,
  };
}

const specFlags = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'experiment-50-50.json'), 'utf8'),
).filter((f) => f.key === 'flag-a' || f.key === 'flag-b' || f.key === 'json-value');

const payload = JSON.stringify([...specFlags, bucketFlag()]);

// Official results (from @amplitude/experiment-core), after the SDK's variant conversion.
const metaA = { flagType: 'experiment', flagVersion: 7, evaluationMode: 'local', deployed: true, experimentKey: 'exp-1' };
const metaB = { flagType: 'release', flagVersion: 2, evaluationMode: 'local', deployed: true };
const treatment = (seg) => ({
  key: 'treatment',
  value: 'treatment',
  payload: { x: 1 },
  metadata: { ...metaA, segmentName: seg },
});
const control = { key: 'control', value: 'control', metadata: { ...metaA, segmentName: 'All Other Users' } };
const bOn = { key: 'on', value: 'on', metadata: { ...metaB, segmentName: 'All Other Users' } };
const bOff = { key: 'off', metadata: { ...metaB, segmentName: 'flag-dependencies', default: true } };
const expected5050 = [
  [{ user_id: 'u-premium', device_id: 'd-0', user_properties: { plan: 'premium' } }, treatment('Premium'), bOn],
  [{ device_id: 'd-1' }, treatment('All Other Users'), bOn],
  [{ device_id: 'd-2' }, control, bOff],
  [{ device_id: 'd-3' }, control, bOff],
  [{ device_id: 'd-4' }, control, bOff],
  [{ user_id: 'no-device' }, { key: 'off', metadata: { ...metaA, segmentName: 'All Other Users', default: true } }, bOff],
];

// Deep equality that ignores undefined-valued keys (the SDK keeps `value: undefined` as an own property).
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = canon(v[k]);
    return out;
  }
  return v;
}
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

// ------------------------------------------------------------------- run ---
const started = Date.now();
const engineModule = require(path.join(pkgRoot, 'dist', 'cjs', 'engine'));
const engine = engineModule.loadEngine();
let diagnosis;
try {
  const pub = require(pkgRoot);
  if (typeof pub.diagnose === 'function') diagnosis = pub.diagnose();
} catch {
  // the public entry may not load in every setup; the engine module is enough
}
if (!diagnosis && typeof engineModule.diagnose === 'function') diagnosis = engineModule.diagnose();
const kind = engine.kind;
if (expect) check(kind === expect, `expected the ${expect} engine, got ${kind}`);

const snapshot = engine.load(payload);
check(snapshot.size === 4, `snapshot size ${snapshot.size} (expected 4)`);
check(snapshot.rejected.length === 0, `rejected flags: ${JSON.stringify(snapshot.rejected)}`);
const keys = snapshot.keys();
// FlagSnapshot.keys() is documented as dependency order; reported, not fatal
// (evaluation order is what the result checks below prove).
const warnings = [];
if (!(keys.indexOf('flag-a') >= 0 && keys.indexOf('flag-a') < keys.indexOf('flag-b'))) {
  warnings.push(`keys() is not in dependency order: ${keys}`);
}

const results = {};
for (const [user, a, b] of expected5050) {
  const got = snapshot.evaluate(user, ['flag-b']);
  results[JSON.stringify(user)] = got;
  check(same(got['flag-a'], a), `flag-a for ${JSON.stringify(user)}: ${JSON.stringify(got['flag-a'])}`);
  check(same(got['flag-b'], b), `flag-b for ${JSON.stringify(user)}: ${JSON.stringify(got['flag-b'])}`);
  check(Object.keys(got).sort().join() === 'flag-a,flag-b', `flagKeys [flag-b] gave ${Object.keys(got)}`);
}

const all = snapshot.evaluate({ device_id: 'd-1' });
check(Object.keys(all).length === 4, `no flagKeys: ${Object.keys(all).length} flags (expected 4)`);
const empty = snapshot.evaluate({ device_id: 'd-1' }, []);
check(Object.keys(empty).length === 4, `flagKeys []: ${Object.keys(empty).length} flags (expected 4)`);
const unknown = snapshot.evaluate({ device_id: 'd-1' }, ['nope']);
check(Object.keys(unknown).length === 0, `unknown key gave ${Object.keys(unknown)}`);
const jv = all['json-value'];
check(jv && jv.value === '{"n":1}' && same(jv.payload, [1, 'two']), `json-value: ${JSON.stringify(jv)}`);

const ids = [];
for (let i = 0; i < 150; i++) ids.push(`device-${i}`);
for (let i = 0; i < 25; i++) ids.push(`吉星高照-${i}`);
for (let i = 0; i < 25; i++) ids.push(`🚀🦎-${i}-ünïcödé`);
let bucketMismatches = 0;
const buckets = {};
for (const id of ids) {
  const h = murmur3(`${SALT}/${id}`, 0);
  const want = `a${h % 100}-${Math.floor(h / 100) < HALF ? 'lo' : 'hi'}`;
  const got = snapshot.evaluate({ device_id: id }, ['bucket-probe'])['bucket-probe'];
  buckets[id] = got && got.key;
  if (!got || got.key !== want) {
    if (bucketMismatches++ < 5) failures.push(`bucket for ${JSON.stringify(id)}: got ${got && got.key}, murmur3 says ${want}`);
  }
}
check(bucketMismatches === 0, `${bucketMismatches} of ${ids.length} bucketing results differ from murmur3`);

const ms = Date.now() - started;
if (asJson) {
  process.stdout.write(JSON.stringify({ kind, diagnosis, results, all, buckets }) + '\n');
} else {
  const where = diagnosis && diagnosis.binary ? ` (${diagnosis.binary})` : '';
  console.log(`smoke-eval: engine=${kind}${where} node=${process.version} ${process.platform}-${process.arch}`);
  console.log(
    `smoke-eval: ${failures.length === 0 ? 'PASS' : 'FAIL'} murmur3 vectors, 6 users x 50/50+dependency, flagKeys, ${ids.length} bucketing ids (${ms} ms)`,
  );
}
for (const w of warnings) console.error('  WARN ' + w);
if (failures.length > 0) {
  for (const f of failures) console.error('  FAIL ' + f);
  process.exit(1);
}
