#!/usr/bin/env node
'use strict';
// fetchV2 throughput: this SDK vs @amplitude/experiment-node-server, against
// the same local Amplitude-compatible server (src/dev-server), sequential and with
// 64 requests in flight. Run after `npm run build:ts`:
//
//   node bench/remote.js [--duration 3] [--rounds 3] [--concurrency 64]
//
// The server runs in a child process (its own core on a 2-core machine) and
// caches responses per user, so the numbers measure the clients. Rounds
// alternate between the two SDKs and the median is reported. Before timing,
// both SDKs fetch every bench user and the results must be identical.

const { fork } = require('child_process');
const path = require('path');
const { isDeepStrictEqual } = require('util');
const { performance } = require('perf_hooks');
const { arg, median, runScript } = require('./lib');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'cjs');

const API_KEY = 'bench-deployment-key';
const USERS = 256;

function makeFlags(n) {
  const flags = [];
  for (let i = 0; i < n; i++) {
    flags.push({
      key: `flag-${i}`,
      metadata: { deployed: true, evaluationMode: 'remote', flagType: i % 3 ? 'release' : 'experiment', flagVersion: i + 1 },
      segments: [
        {
          conditions: [[{ op: 'is', selector: ['context', 'user', 'user_properties', 'plan'], values: ['gold'] }]],
          metadata: { segmentName: 'Gold' },
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
                  { variant: 'control', range: [0, 2147483] },
                  { variant: 'treatment', range: [2147483, 4294967] },
                ],
              },
            ],
          },
          metadata: { segmentName: 'All Other Users' },
          variant: 'off',
        },
      ],
      variants: {
        off: { key: 'off', metadata: { default: true } },
        on: { key: 'on', value: 'on', payload: { n: i } },
        control: { key: 'control', value: 'control' },
        treatment: { key: 'treatment', value: 'treatment', payload: { color: 'blue' } },
      },
    });
  }
  return flags;
}

function makeUsers() {
  const users = [];
  for (let i = 0; i < USERS; i++) {
    users.push({
      user_id: `user-${i}@example.com`,
      device_id: `device-${i.toString(16).padStart(8, '0')}`,
      country: 'DE',
      platform: 'server',
      user_properties: { plan: i % 4 === 0 ? 'gold' : 'free', age: 20 + (i % 50) },
    });
  }
  return users;
}

// ---------------------------------------------------------------- server side
async function runServer() {
  const { createLocalServer } = require(path.join(dist, 'dev-server'));
  const server = await createLocalServer({ flags: makeFlags(20), apiKeys: [API_KEY], logRequests: false });
  process.send({ url: server.url });
  process.on('message', async (m) => {
    if (m === 'close') {
      await server.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- client side
async function measure(fetchOne, users, concurrency, durationMs) {
  let count = 0;
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + durationMs;
  async function worker() {
    while (performance.now() < deadline) {
      const user = users[next++ % users.length];
      try {
        await fetchOne(user);
        count++;
      } catch {
        errors++;
      }
    }
  }
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - start) / 1000;
  // Client CPU per request (user + system, µs): less sensitive to other load on the machine than rps.
  return { rps: count / elapsed, cpuPerRequest: (cpu.user + cpu.system) / Math.max(1, count), errors };
}

async function main() {
  const durationMs = arg('--duration', 3) * 1000;
  const rounds = arg('--rounds', 3);
  const concurrency = arg('--concurrency', 64);

  let ours;
  try {
    ours = require(path.join(dist, 'remote', 'client'));
  } catch (e) {
    console.error('dist/cjs not found: run `npm run build:ts` first.\n' + e.message);
    process.exit(1);
  }
  const official = require('@amplitude/experiment-node-server');

  const child = fork(__filename, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });

  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const config = { serverUrl: url, fetchRetries: 0, loggerProvider: silent };
  const clients = {
    'amplitude-experiment-native': new ours.RemoteEvaluationClient(API_KEY, config),
    '@amplitude/experiment-node-server': new official.RemoteEvaluationClient(API_KEY, config),
  };
  const names = Object.keys(clients);
  const users = makeUsers();

  // Identical results for every bench user (this also warms the server's cache).
  let mismatches = 0;
  for (const user of users) {
    const a = await clients[names[0]].fetchV2(user);
    const b = await clients[names[1]].fetchV2(user);
    if (!isDeepStrictEqual(a, b)) mismatches++;
  }
  const sample = await clients[names[0]].fetchV2(users[0]);
  console.log(
    `results: ${mismatches === 0 ? 'identical' : `${mismatches} MISMATCHES`} for ${users.length} users ` +
      `(${Object.keys(sample).length} flags each)`,
  );

  const modes = [
    ['sequential', 1],
    [`${concurrency} concurrent`, concurrency],
  ];
  const results = {};
  for (const [mode, conc] of modes) {
    results[mode] = {};
    for (const name of names) {
      // Warm-up: JIT and connection pools.
      await measure((u) => clients[name].fetchV2(u), users, conc, Math.min(1000, durationMs));
      results[mode][name] = [];
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? names : names.slice().reverse();
      for (const name of order) {
        const m = await measure((u) => clients[name].fetchV2(u), users, conc, durationMs);
        if (m.errors) console.log(`  ${name} ${mode}: ${m.errors} errors`);
        results[mode][name].push(m);
      }
    }
  }

  console.log('');
  console.log(`fetchV2 requests/second (median of ${rounds} rounds of ${durationMs / 1000} s; Node ${process.version})`);
  const col = (s, w) => String(s).padStart(w);
  console.log(`${'mode'.padEnd(16)}${col(names[0], 30)}${col(names[1], 36)}${col('ratio', 9)}`);
  let ratioAtConcurrency = 0;
  for (const [mode] of modes) {
    const a = median(results[mode][names[0]].map((m) => m.rps));
    const b = median(results[mode][names[1]].map((m) => m.rps));
    const ratio = a / b;
    if (mode !== 'sequential') ratioAtConcurrency = ratio;
    console.log(`${mode.padEnd(16)}${col(a.toFixed(0), 30)}${col(b.toFixed(0), 36)}${col(ratio.toFixed(2) + 'x', 9)}`);
  }
  console.log('');
  console.log('client CPU per request, µs (median)');
  for (const [mode] of modes) {
    const a = median(results[mode][names[0]].map((m) => m.cpuPerRequest));
    const b = median(results[mode][names[1]].map((m) => m.cpuPerRequest));
    console.log(`${mode.padEnd(16)}${col(a.toFixed(1), 30)}${col(b.toFixed(1), 36)}${col((b / a).toFixed(2) + 'x', 9)}`);
  }
  console.log('');
  console.log(
    `target: >= 1.5x at ${concurrency} concurrent: ${ratioAtConcurrency >= 1.5 ? 'met' : 'NOT met'} ` +
      `(${ratioAtConcurrency.toFixed(2)}x)`,
  );

  await Promise.all([clients[names[0]].close()]);
  child.send('close');
  await new Promise((resolve) => child.once('exit', resolve));
  if (mismatches > 0) process.exitCode = 1;
}

runScript(process.argv.includes('--server') ? runServer : main);
