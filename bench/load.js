#!/usr/bin/env node
'use strict';
// Cost of loading and starting the SDK: this package vs @amplitude/experiment-node-server,
// each in fresh child processes (so nothing is cached in-process), against the same local
// Amplitude-compatible server on 127.0.0.1. Run after `npm run build:ts`:
//
//   node bench/load.js [--rounds 7] [--evals 10000] [--flags 5] [--cohort-size 1000] [--case polling|streaming]
//   (or: npm run bench:load)
//
// Two configurations, each SDK configured the same way (both by default, or one with --case):
//   polling    flags polled from serverUrl (the SDK's defaults);
//   streaming  flags from the SSE stream (streamUpdates, streamServerUrl) and one cohort of --cohort-size
//              users downloaded from cohortServerUrl (cohortSyncConfig), referenced by one more flag.
// The parent checks that each streaming child opened a stream and downloaded the cohort.
//
// Per child, one SDK:
//   require   wall time of require() of the package (what a serverless cold start pays);
//   require + initializeLocal  wall time until the client is constructed: this package's require() loads
//             only its entry, and each client's modules (and the addon) at the first initialize call;
//   cold start  wall time of require() + initializeLocal + start() (flags fetched), for context: what
//             require() defers to the first client (the addon, the engine, the HTTP stack) shows here;
//   rss/heap  growth of RSS and V8 heapUsed from before require() to after
//             initializeLocal + start() (flags fetched from the server) + --evals evaluations
//             of every flag, measured after a full GC (node --expose-gc).
// Rounds alternate the order of the two SDKs; the table shows medians and ratios
// (this package / official: lower is better). Targets: require <= 1/3, rss and heap <= 1.

const path = require('path');

const root = path.resolve(__dirname, '..');
const OURS = 'amplitude-experiment-native';
const OFFICIAL = '@amplitude/experiment-node-server';
const API_KEY = 'server-load-bench';
const COHORT_KEYS = { apiKey: 'cohort-load-bench', secretKey: 'cohort-secret' };
const COHORT_ID = 'bench-cohort';
const CASES = ['polling', 'streaming'];

/** A flag that is 'on' for the members of COHORT_ID. */
function cohortFlag() {
  return {
    key: 'cohort-flag',
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
    segments: [
      {
        conditions: [[{ op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: [COHORT_ID] }]],
        variant: 'on',
      },
      { variant: 'off' },
    ],
    variants: { on: { key: 'on', value: 'on' }, off: { key: 'off', metadata: { default: true } } },
  };
}

/** The client configuration of a case, the same for both SDKs. */
function clientConfig(which, serverUrl) {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const config = { serverUrl, flagConfigPollingIntervalMillis: 3_600_000, logLevel: 0, loggerProvider: silent };
  if (which === 'streaming') {
    config.streamUpdates = true;
    config.streamServerUrl = serverUrl;
    config.cohortSyncConfig = { ...COHORT_KEYS, cohortServerUrl: serverUrl };
  }
  return config;
}

function makeFlags(n) {
  const flags = [];
  for (let i = 0; i < n; i++) {
    flags.push({
      key: `flag-${i}`,
      metadata: { deployed: true, evaluationMode: 'local', flagType: i % 2 ? 'release' : 'experiment', flagVersion: 1 },
      segments: [
        {
          conditions: [[{ op: 'is', selector: ['context', 'user', 'user_properties', 'plan'], values: ['gold'] }]],
          variant: 'on',
        },
        {
          bucket: {
            selector: ['context', 'user', 'device_id'],
            salt: `salt-${i}`,
            allocations: [
              {
                range: [0, 100],
                distributions: [
                  { variant: 'on', range: [0, 2147483647] },
                  { variant: 'off', range: [2147483647, 4294967296] },
                ],
              },
            ],
          },
          variant: 'off',
        },
      ],
      variants: { on: { key: 'on', value: 'on' }, off: { key: 'off', metadata: { default: true } } },
    });
  }
  return flags;
}

// ---------------------------------------------------------------- child: one SDK, one fresh process
async function child(which, serverUrl, evals, benchCase) {
  const config = clientConfig(benchCase, serverUrl);
  global.gc();
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  // Resolved from this package's root: the package itself through its own "exports", the
  // official SDK from the devDependencies.
  const sdk = require(require.resolve(which === 'ours' ? OURS : OFFICIAL, { paths: [root] }));
  const requireMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const client = sdk.Experiment.initializeLocal(API_KEY, config);
  const initMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await client.start();
  const coldStartMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let on = 0;
  let cohortOn = 0;
  for (let i = 0; i < evals; i++) {
    const user = { user_id: `user-${i}`, device_id: `device-${i}`, user_properties: { plan: i % 5 ? 'free' : 'gold' } };
    const variants = client.evaluateV2(user);
    if (variants['flag-0'] && variants['flag-0'].key === 'on') on++;
    if (variants['cohort-flag'] && variants['cohort-flag'].key === 'on') cohortOn++;
  }
  global.gc();
  await new Promise((r) => setImmediate(r));
  global.gc();
  const after = process.memoryUsage();
  client.stop();
  const engine = which === 'ours' ? sdk.diagnose().engine : 'experiment-core';
  // The RESULT line bench/lib.js's runChild reads (written here: the child loads nothing but the SDK under test).
  process.stdout.write(
    'RESULT ' +
      JSON.stringify({
        requireMs,
        initMs,
        coldStartMs,
        rss: after.rss - before.rss,
        heap: after.heapUsed - before.heapUsed,
        on,
        cohortOn,
        engine,
      }) +
      '\n',
  );
  // Whatever the SDK left open (an agent's keep-alive socket) must not stretch the run.
  process.exit(0);
}

async function main() {
  // Only the parent uses the shared bench module: in a child it would load built-ins before the timed require().
  const { arg, median, runChild } = require('./lib');
  const rounds = arg('--rounds', 7);
  const evals = arg('--evals', 10_000);
  const nflags = arg('--flags', 5);
  const cohortSize = arg('--cohort-size', 1000);
  const caseArg = process.argv.indexOf('--case');
  const cases = caseArg >= 0 ? [process.argv[caseArg + 1]] : CASES;
  if (!cases.every((c) => CASES.includes(c))) {
    console.error(`bench/load: --case must be one of ${CASES.join(', ')}`);
    process.exit(1);
  }
  let createLocalServer;
  try {
    ({ createLocalServer } = require(require.resolve(`${OURS}/dev-server`, { paths: [root] })));
  } catch (e) {
    console.error(`bench/load: the built package was not found: run \`npm run build:ts\` first (${e.message})`);
    process.exit(1);
  }
  const members = Array.from({ length: cohortSize }, (_, i) => `user-${i * 3}`);
  const tables = [];
  for (const benchCase of cases) {
    const streaming = benchCase === 'streaming';
    // One server per case: the polling case serves exactly --flags flags, as the SDKs' defaults would see them.
    const server = await createLocalServer({
      flags: streaming ? [...makeFlags(nflags), cohortFlag()] : makeFlags(nflags),
      apiKeys: [API_KEY],
      cohortKeys: [COHORT_KEYS],
      cohorts: [{ cohortId: COHORT_ID, memberIds: members }],
      // The log (a few entries per child) is how the parent checks each streaming child streamed and downloaded.
      logRequests: streaming,
    });
    const downloads = () => server.requests('cohort').filter((q) => q.status === 200).length;
    const results = { ours: [], official: [] };
    try {
      for (let r = 0; r < rounds; r++) {
        for (const which of r % 2 ? ['official', 'ours'] : ['ours', 'official']) {
          const streams = server.requests('stream').length;
          const cohorts = downloads();
          results[which].push(await runChild(__filename, [which, server.url, String(evals), benchCase]));
          if (streaming && (server.requests('stream').length === streams || downloads() === cohorts)) {
            console.error(`bench/load: the ${which} SDK did not open a stream and download the cohort`);
            process.exit(1);
          }
        }
      }
    } finally {
      await server.close();
    }
    tables.push({ benchCase, results });
  }
  for (const { benchCase, results } of tables) {
    for (const key of ['on', 'cohortOn']) {
      if (results.ours[0][key] !== results.official[0][key]) {
        console.error(
          `bench/load (${benchCase}): the SDKs disagree (${key}: ${results.ours[0][key]} vs ${results.official[0][key]} users)`,
        );
        process.exit(1);
      }
    }
    if (benchCase === 'streaming' && results.ours[0].cohortOn === 0) {
      console.error('bench/load (streaming): no user matched the cohort: the cohort was not loaded');
      process.exit(1);
    }
    if (results.ours.some((r) => r.engine !== 'native')) {
      console.error(
        `bench/load: this SDK ran on the ${results.ours[0].engine} engine, not native (see diagnose()); numbers not comparable`,
      );
      process.exit(1);
    }
  }

  const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;
  const rows = [
    ['require()', 'requireMs', (v) => `${v.toFixed(1)} ms`, 1 / 3],
    ['require() + initializeLocal', 'initMs', (v) => `${v.toFixed(1)} ms`, undefined],
    ['cold start (require + init + start)', 'coldStartMs', (v) => `${v.toFixed(1)} ms`, undefined],
    [`RSS growth (start + ${evals} evals)`, 'rss', mb, 1],
    [`V8 heap growth (start + ${evals} evals)`, 'heap', mb, 1],
  ];
  for (const { benchCase, results } of tables) {
    const what =
      benchCase === 'streaming'
        ? `${nflags} flags + 1 cohort flag from the stream, 1 cohort of ${cohortSize} users`
        : `${nflags} flags, polling`;
    console.log(`\nload and start, ${what}: median of ${rounds} fresh processes each (Node ${process.version})`);
    console.log(`${'measure'.padEnd(36)}${OURS.padStart(30)}${OFFICIAL.padStart(36)}${'ratio'.padStart(8)}  target`);
    for (const [label, key, fmt, target] of rows) {
      const a = median(results.ours.map((x) => x[key]));
      const b = median(results.official.map((x) => x[key]));
      const ratio = a / b;
      const verdict =
        target === undefined ? '(no target)' : `<= ${target === 1 ? '1' : '1/3'} ${ratio <= target ? 'ok' : 'MISSED'}`;
      console.log(`${label.padEnd(36)}${fmt(a).padStart(30)}${fmt(b).padStart(36)}${ratio.toFixed(2).padStart(8)}  ${verdict}`);
    }
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
