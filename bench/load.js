#!/usr/bin/env node
'use strict';
// Cost of loading and starting the SDK: this package vs @amplitude/experiment-node-server,
// each in fresh child processes (so nothing is cached in-process), against the same local
// Amplitude-compatible server on 127.0.0.1. Run after `npm run build:ts`:
//
//   node bench/load.js [--rounds 7] [--evals 10000] [--flags 5]     (or: npm run bench:load)
//
// Per child, one SDK:
//   require   wall time of require() of the package (what a serverless cold start pays);
//   cold start  wall time of require() + initializeLocal + start() (flags fetched), for context: what
//             require() defers to the first client (the addon, the engine, the HTTP stack) shows here;
//   rss/heap  growth of RSS and V8 heapUsed from before require() to after
//             initializeLocal + start() (flags fetched from the server) + --evals evaluations
//             of every flag, measured after a full GC (node --expose-gc).
// Rounds alternate the order of the two SDKs; the table shows medians and ratios
// (this package / official: lower is better). Targets: require <= 1/3, rss and heap <= 1.

const { execFile } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const OURS = 'amplitude-experiment-native';
const OFFICIAL = '@amplitude/experiment-node-server';
const API_KEY = 'server-load-bench';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
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
async function child(which, serverUrl, evals) {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  global.gc();
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  // Resolved from this package's root: the package itself through its own "exports", the
  // official SDK from the devDependencies.
  const sdk = require(require.resolve(which === 'ours' ? OURS : OFFICIAL, { paths: [root] }));
  const requireMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const client = sdk.Experiment.initializeLocal(API_KEY, {
    serverUrl,
    flagConfigPollingIntervalMillis: 3_600_000,
    logLevel: 0,
    loggerProvider: silent,
  });
  await client.start();
  const coldStartMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let on = 0;
  for (let i = 0; i < evals; i++) {
    const user = { user_id: `user-${i}`, device_id: `device-${i}`, user_properties: { plan: i % 5 ? 'free' : 'gold' } };
    const variants = client.evaluateV2(user);
    if (variants['flag-0'] && variants['flag-0'].key === 'on') on++;
  }
  global.gc();
  await new Promise((r) => setImmediate(r));
  global.gc();
  const after = process.memoryUsage();
  client.stop();
  const engine = which === 'ours' ? sdk.diagnose().engine : 'experiment-core';
  process.stdout.write(
    JSON.stringify({ requireMs, coldStartMs, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed, on, engine }) +
      '\n',
  );
  // Whatever the SDK left open (an agent's keep-alive socket) must not stretch the run.
  process.exit(0);
}

function runChild(which, url, evals) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', __filename, '--child', which, url, String(evals)],
      { cwd: root },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${which} child failed: ${err.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop()));
        } catch {
          reject(new Error(`${which} child printed no result:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const rounds = Number(arg('--rounds', 7));
  const evals = Number(arg('--evals', 10_000));
  const nflags = Number(arg('--flags', 5));
  let createLocalServer;
  try {
    ({ createLocalServer } = require(require.resolve(`${OURS}/dev-server`, { paths: [root] })));
  } catch (e) {
    console.error(`bench/load: the built package was not found: run \`npm run build:ts\` first (${e.message})`);
    process.exit(1);
  }
  const server = await createLocalServer({ flags: makeFlags(nflags), apiKeys: [API_KEY], logRequests: false });
  const results = { ours: [], official: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 ? ['official', 'ours'] : ['ours', 'official'])
        results[which].push(await runChild(which, server.url, evals));
    }
  } finally {
    await server.close();
  }
  if (results.ours[0].on !== results.official[0].on) {
    console.error(`bench/load: the SDKs disagree (flag-0 'on' for ${results.ours[0].on} vs ${results.official[0].on} users)`);
    process.exit(1);
  }

  if (results.ours.some((r) => r.engine !== 'native')) {
    console.error(
      `bench/load: this SDK ran on the ${results.ours[0].engine} engine, not native (see diagnose()); numbers not comparable`,
    );
    process.exit(1);
  }
  const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;
  const rows = [
    ['require()', 'requireMs', (v) => `${v.toFixed(1)} ms`, 1 / 3],
    ['cold start (require + init + start)', 'coldStartMs', (v) => `${v.toFixed(1)} ms`, undefined],
    [`RSS growth (start + ${evals} evals)`, 'rss', mb, 1],
    [`V8 heap growth (start + ${evals} evals)`, 'heap', mb, 1],
  ];
  console.log(`load and start, ${nflags} flags, median of ${rounds} fresh processes each (Node ${process.version})`);
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

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], Number(process.argv[5])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
