#!/usr/bin/env node
'use strict';
/**
 * evaluateV2 time per call: this SDK vs @amplitude/experiment-node-server 1.13.6, in one process, on the same
 * generated configs of 10, 100 and 1000 flags, two corpora (test/support/generator.ts):
 *   hard:   generateHardCase: ~6 conditions per flag, 15% regex, 10% of flags with a dependency, users of 20-40
 *           properties with groups and group properties, 25% of them with non-ASCII values
 *   simple: the 'realistic' profile (fewer conditions, small users)
 *
 *   npm run build:ts && node bench/eval.js            (see bench/README.md)
 *   The binary users get on Linux (profile-guided): node scripts/prebuild.js, then
 *   AMPLITUDE_EXPERIMENT_NATIVE_BINARY=$PWD/prebuilds/linux-x64/amplitude-experiment-native.glibc.node node bench/eval.js
 *
 * Options (environment):
 *   BENCH_SIZES=10,100,1000   flag counts
 *   BENCH_CELL_MS=1000        measured time per cell (split into BENCH_ROUNDS rounds, official and ours alternating)
 *   BENCH_ROUNDS=5            rounds per cell; the reported times are the median rounds, the ratio the median of
 *                             the rounds' ratios
 *   BENCH_SEED=7              generator seed
 *   BENCH_USERS=64            distinct users cycled through
 *   BENCH_HOOK=1              register one no-op evaluation hook on our client (cost of hooks; docs/hooks.md)
 *   BENCH_CORPORA=hard,simple which corpora
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const lib = require('./lib');

const { median, measure, measuredSink, formatNanos: fmt } = lib;

const ROOT = path.resolve(__dirname, '..');
const SIZES = (process.env.BENCH_SIZES || '10,100,1000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
const CELL_MS = Number(process.env.BENCH_CELL_MS || 1000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS || 5));
const SEED = Number(process.env.BENCH_SEED || 7) >>> 0;
const USERS = Math.max(1, Number(process.env.BENCH_USERS || 64));
const CORPORA = (process.env.BENCH_CORPORA || 'hard,simple')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const WARMUP_MS = 150;
const VERIFY_USERS = 24;

const fail = (message) => lib.fail('bench/eval.js', message);

// ---------------------------------------------------------------------------------------------------------------
// The SDKs
// ---------------------------------------------------------------------------------------------------------------

function loadOurs() {
  // BENCH_OURS=<module> measures another module in place of this SDK (checks the bench itself, e.g. official vs
  // official should give ratios near 1.00x).
  const entry = process.env.BENCH_OURS
    ? require.resolve(process.env.BENCH_OURS, { paths: [process.cwd()] })
    : path.join(ROOT, 'dist', 'cjs', 'index.js');
  if (!fs.existsSync(entry)) {
    fail(
      `this SDK's build is missing (${path.relative(ROOT, entry)}). Run "npm run build:ts" (and "npm run build:native" for the addon) first.`,
    );
  }
  let sdk;
  try {
    sdk = require(entry);
  } catch (err) {
    fail(`loading ${path.relative(ROOT, entry)} failed: ${err && err.stack ? err.stack : err}`);
  }
  if (!sdk.Experiment || typeof sdk.Experiment.initializeLocal !== 'function') {
    fail(`${path.relative(ROOT, entry)} does not export Experiment.initializeLocal yet; nothing to measure.`);
  }
  return sdk;
}

function loadOfficial() {
  try {
    return require('@amplitude/experiment-node-server');
  } catch (err) {
    fail(`@amplitude/experiment-node-server is not installed (npm install): ${err.message}`);
  }
}

function describeOurEngine(sdk) {
  if (process.env.BENCH_OURS) return `n/a (BENCH_OURS=${process.env.BENCH_OURS})`;
  try {
    if (typeof sdk.diagnose === 'function') {
      const d = sdk.diagnose();
      // Which binary: build/Release (npm run build:native, a plain -O3 build) or a prebuild (profile-guided).
      const binary = d && d.binary ? ` ${path.relative(ROOT, d.binary)}` : '';
      if (d && d.engine) return `${d.engine}${binary}${d.fallbackReason ? ` (fallback: ${d.fallbackReason})` : ''}`;
    }
  } catch {
    // fall through
  }
  try {
    const engine = require(path.join(ROOT, 'dist', 'cjs', 'engine')).loadEngine();
    return engine.kind;
  } catch (err) {
    return `unknown (${err.message.split('\n')[0]})`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison (same strictness as the differential test: values, undefined-valued keys, key order)
// ---------------------------------------------------------------------------------------------------------------

function firstDifference(expected, actual, p = '$') {
  if (typeof expected !== typeof actual) return `${p}: ${typeof expected} vs ${typeof actual}`;
  if (expected === null || actual === null || typeof expected !== 'object') {
    return Object.is(expected, actual) ? null : `${p}: ${JSON.stringify(expected)} vs ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return `${p}: array vs non-array`;
  const ek = Object.keys(expected);
  const ak = Object.keys(actual);
  if (ek.join('\u0000') !== ak.join('\u0000')) return `${p}: keys ${JSON.stringify(ek)} vs ${JSON.stringify(ak)}`;
  for (const k of ek) {
    const d = firstDifference(expected[k], actual[k], `${p}[${JSON.stringify(k)}]`);
    if (d) return d;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------------------------

/** The measured function: one evaluateV2 call, counting the variants so the result is used. */
const countingVariants = (evaluate) => (user) => Object.keys(evaluate(user)).length;

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

function main() {
  const ours = loadOurs();
  const official = loadOfficial();
  const gen = lib.loadGenerator('bench/eval.js');

  const cpu = (os.cpus()[0] && os.cpus()[0].model) || 'unknown CPU';
  console.log(`evaluateV2 per call: amplitude-experiment-native vs @amplitude/experiment-node-server 1.13.6`);
  console.log(`node ${process.version}, ${os.platform()}-${os.arch()}, ${os.cpus().length} x ${cpu}`);
  console.log(
    `our engine: ${describeOurEngine(ours)}${process.env.BENCH_HOOK ? ' + one no-op hook' : ''}; seed ${SEED}, ${USERS} users, ${ROUNDS} x ${Math.round(CELL_MS / ROUNDS)} ms per cell (median round)\n`,
  );

  const rows = [];
  const warnings = [];
  for (const corpus of CORPORA)
    for (const size of SIZES) {
      const c =
        corpus === 'hard'
          ? gen.generateHardCase(gen.deriveSeed(SEED, size), size, USERS)
          : gen.generateCase(gen.deriveSeed(SEED, size), size, USERS, { profile: 'realistic' });
      const record = {};
      for (const f of JSON.parse(JSON.stringify(c.flags))) record[f.key] = f;
      // One client per size; instances are cached by api key, so the key names the size.
      const apiKey = `server-bench-${corpus}-${size}-${SEED}`;
      const theirs = official.Experiment.initializeLocal(apiKey, { bootstrap: record, logLevel: official.LogLevel.Disable });
      // Logging off on both sides: with cohort filters and no cohort sync the official client logs an error per call.
      const quiet = official.LogLevel.Disable;
      const mine = ours.Experiment.initializeLocal(apiKey, { bootstrap: record, logLevel: quiet, instanceName: 'ours' });
      if (process.env.BENCH_HOOK && typeof mine.addHook === 'function') {
        mine.addHook({ name: 'bench-noop', beforeEvaluation() {}, afterEvaluation() {} });
      }
      const users = c.users.filter((u) => u !== undefined);

      // The one-flag case asks for a flag that has dependencies when there is one (the usual experiment setup).
      const withDeps = c.flags.find((f) => Array.isArray(f.dependencies) && f.dependencies.length > 0);
      const oneKey = (withDeps || c.flags[0]).key;
      const cases = [
        { name: 'all flags', keys: undefined },
        { name: `1 flag`, keys: [oneKey] },
      ];

      for (const cs of cases) {
        // Same answers? Fresh copies of each user for each SDK (the official client writes cohort_ids into the user).
        let bad = 0;
        let cohortOnly = 0;
        for (const u of users.slice(0, VERIFY_USERS)) {
          const u1 = structuredClone(u);
          const a = theirs.evaluateV2(u1, cs.keys);
          const b = mine.evaluateV2(structuredClone(u), cs.keys);
          const d = firstDifference(a, b);
          if (!d) continue;
          // The official client overwrites user.cohort_ids in place (with the cohorts from its own cohort storage)
          // when flags use cohort filters. Same inputs as the official engine saw -> same answer?
          if (!firstDifference(a, mine.evaluateV2(structuredClone(u1), cs.keys))) cohortOnly++;
          if (bad++ === 0)
            warnings.push(
              `WARNING: ${corpus} ${size} flags, ${cs.name}: results differ from the official SDK, e.g. ${d.slice(0, 300)}`,
            );
        }
        if (bad > 0) {
          warnings.push(
            `WARNING: ${corpus} ${size} flags, ${cs.name}: ${bad} of ${Math.min(VERIFY_USERS, users.length)} users differ` +
              (cohortOnly
                ? `; for ${cohortOnly} of them the results agree once this SDK gets the user as the official client rewrote it (cohort_ids replaced by its cohort enrichment)`
                : ''),
          );
        }

        const evaluated = Object.keys(theirs.evaluateV2(structuredClone(users[0]), cs.keys)).length;
        const fOfficial = (u) => theirs.evaluateV2(u, cs.keys);
        const fOurs = (u) => mine.evaluateV2(u, cs.keys);
        measure(countingVariants(fOfficial), users, WARMUP_MS);
        measure(countingVariants(fOurs), users, WARMUP_MS);
        const tOfficial = [];
        const tOurs = [];
        for (let r = 0; r < ROUNDS; r++) {
          // alternate who goes first, so drift on a shared machine hits both
          if (r % 2 === 0) {
            tOfficial.push(measure(countingVariants(fOfficial), users, CELL_MS / ROUNDS));
            tOurs.push(measure(countingVariants(fOurs), users, CELL_MS / ROUNDS));
          } else {
            tOurs.push(measure(countingVariants(fOurs), users, CELL_MS / ROUNDS));
            tOfficial.push(measure(countingVariants(fOfficial), users, CELL_MS / ROUNDS));
          }
        }
        const o = median(tOfficial);
        const m = median(tOurs);
        // The ratio of each round's pair (measured back to back), then their median: the machine's speed drifts
        // between rounds, and a ratio of medians could pair an official round with one of ours run at another speed.
        const ratio = median(tOfficial.map((t, r) => t / tOurs[r]));
        rows.push({ corpus, size, name: cs.keys ? `${cs.name} (${cs.keys[0]})` : cs.name, evaluated, o, m, ratio });
        process.stdout.write(`  measured ${corpus} ${size} flags, ${cs.name}\n`);
      }
    }

  const header = ['corpus', 'flags', 'case', 'results', 'official / call', 'ours / call', 'official / ours'];
  const table = rows.map((r) => [
    r.corpus,
    String(r.size),
    r.name,
    String(r.evaluated),
    fmt(r.o),
    fmt(r.m),
    `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i <= 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) console.log(line(row));
  console.log('\nresults = variants returned for the first user; ratio > 1 means this SDK is faster.');
  for (const w of warnings) console.log(w);
  if (measuredSink() === -1) console.log(''); // keep results observable
  process.exit(0); // clients may hold timers; the numbers are printed
}

main();
