#!/usr/bin/env node
'use strict';
// The training run of the profile-guided build (scripts/prebuild.js, unless --no-pgo): drives an instrumented
// addon through the engine the way a server does, so the compiler learns which branches are hot. Its exit writes
// the profile. (A profile that no longer fits the code costs speed, never correctness: GCC warns and compiles
// the functions it does not match without it.)
//
// usage: node scripts/pgo-train.js <instrumented .node>
//
// Workload: generated flag configs and users (test/support/generator.ts) of both corpora bench/eval.js uses and
// of the differential test's fuzz profile, at 10, 100 and 1000 flags; all-flag and one-flag calls, with the
// slot-value path and the whole-user JSON path; snapshot parsing. Seeds are the training's own, not the
// bench's (bench/eval.js's default seed is 7), so the benchmark measures configs the profile has not seen.
// Needs the TypeScript build (dist/, made here if missing) and the typescript devDependency.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const binary = process.argv[2];
if (!binary || !fs.existsSync(binary)) {
  console.error('usage: node scripts/pgo-train.js <instrumented .node>');
  process.exit(2);
}
if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'engine', 'native-engine.js'))) {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-ts.js')], { cwd: root, stdio: 'inherit' });
}

const { createNativeEngine } = require(path.join(root, 'dist', 'cjs', 'engine', 'native-engine.js'));
const gen = require(path.join(root, 'bench', 'lib.js')).loadGenerator('scripts/pgo-train.js');

const engine = createNativeEngine(require(path.resolve(binary)));
const SEEDS = [1001, 1002];
const corpora = [
  ['hard', (seed, n) => gen.generateHardCase(seed, n, 64)],
  ['realistic', (seed, n) => gen.generateCase(seed, n, 64, { profile: 'realistic' })],
  ['fuzz', (seed, n) => gen.generateCase(seed, n, 64)],
];

const started = Date.now();
let calls = 0;
let sink = 0;
for (const seed of SEEDS) {
  for (const [name, make] of corpora) {
    for (const size of [10, 100, 1000]) {
      const c = make(gen.deriveSeed(seed, size), size);
      const payload = JSON.stringify(c.flags);
      let snapshot = engine.load(payload);
      for (let i = 0; i < 3; i++) snapshot = engine.load(payload);
      const users = c.users;
      const withDeps = c.flags.find((f) => Array.isArray(f.dependencies) && f.dependencies.length > 0);
      const oneKey = [(withDeps || c.flags[0]).key];
      // All-flag calls cost about as much as size one-flag calls: keep each corpus's share of the profile alike.
      const rounds = name === 'fuzz' ? 2 : Math.max(2, Math.round(2000 / size));
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < users.length; i++) {
          const user = users[i];
          sink += Object.keys(snapshot.evaluate(user)).length;
          sink += Object.keys(snapshot.evaluate(user, oneKey)).length;
          sink += Object.keys(snapshot.evaluate(user, c.keySubsets[i])).length;
          calls += 3;
        }
      }
    }
    process.stdout.write(`pgo-train: seed ${seed} ${name}\n`);
  }
}
console.log(`pgo-train: ${calls} evaluations in ${((Date.now() - started) / 1000).toFixed(1)} s (${sink > 0 ? 'ok' : '?'})`);
