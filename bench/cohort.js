#!/usr/bin/env node
/**
 * Cohort memory and load time: a 1,000,000-member cohort of 36-character ids
 * (UUIDs) loaded by this SDK and by @amplitude/experiment-node-server, each
 * in its own child process (clean memory numbers), from the same local
 * server in this process. Per SDK:
 *   - load time: start() until flags and the cohort are loaded
 *   - RSS and V8 heap growth after the load (after GC), and peak RSS
 *   - event-loop max blocking while loading (perf_hooks monitorEventLoopDelay)
 *   - evaluateV2 time with 10 cohort-targeted flags (members and non-members)
 * Targets: heap growth < 5 MB; RSS growth <= 1/3 of the official;
 * event loop never blocked > 50 ms.
 *
 *   npm run build:ts && node bench/cohort.js [--members 1000000] [--evals 20000]
 */
'use strict';
const crypto = require('crypto');
const { silentLogger, mb, arg, cohortFlag, loadDist, runScript, reportResult, runChild, measureLoad, sleep } = require('./lib');

const MEMBERS = arg('--members', 1_000_000);
const EVALS = arg('--evals', 20_000);
const API_KEY = 'bench-server-key';
const COHORT_KEYS = { apiKey: 'bench-api', secretKey: 'bench-secret' };

// ---- child: one SDK ----

async function child(sdk, url) {
  const { performance } = require('perf_hooks');
  const LocalEvaluationClient =
    sdk === 'native'
      ? loadDist('local/client.js', 'bench/cohort.js').LocalEvaluationClient
      : require('@amplitude/experiment-node-server').LocalEvaluationClient;
  const config = {
    serverUrl: url,
    cohortSyncConfig: { ...COHORT_KEYS, cohortServerUrl: url },
    ...(sdk === 'native' ? { logger: silentLogger } : { loggerProvider: silentLogger }),
  };
  // Warm up module loading and the engine before the baseline.
  const warm = new LocalEvaluationClient(API_KEY, { ...config, cohortSyncConfig: undefined });
  warm.evaluateV2({ user_id: 'x' });
  if (warm.close) await warm.close();
  else warm.stop();
  await sleep(100);
  const load = measureLoad();
  const client = new LocalEvaluationClient(API_KEY, config);
  const t0 = performance.now();
  await client.start();
  const loadMillis = performance.now() - t0;
  const loaded = await load.finish();

  // evaluateV2 with cohort-targeted flags: half members, half not.
  const members = JSON.parse(process.env.PROBES);
  const users = [];
  for (let i = 0; i < 1000; i++) {
    users.push({ user_id: i % 2 === 0 ? members[i % members.length] : crypto.randomUUID(), device_id: 'd' + i });
  }
  let on = 0;
  const check = (r) => {
    for (const k in r) if (r[k].key === 'on') on++;
  };
  for (let i = 0; i < 2000; i++) check(client.evaluateV2(users[i % users.length]));
  on = 0;
  const e0 = performance.now();
  for (let i = 0; i < EVALS; i++) check(client.evaluateV2(users[i % users.length]));
  const evalMicros = ((performance.now() - e0) * 1000) / EVALS;
  const e1 = performance.now();
  for (let i = 0; i < EVALS; i++) client.evaluateV2(users[i % users.length], ['cohort-flag-0']);
  const evalOneMicros = ((performance.now() - e1) * 1000) / EVALS;

  const nativeBytes =
    sdk === 'native' && client.cohortStore && typeof client.cohortStore.memoryBytes === 'function'
      ? client.cohortStore.memoryBytes()
      : undefined;
  const result = {
    sdk,
    loadMillis,
    ...loaded,
    evalMicros,
    evalOneMicros,
    onRatio: on / (EVALS * 10),
    storeBytes: nativeBytes,
    engine: sdk === 'native' ? loadDist('engine/index.js').loadEngine().kind : 'js',
  };
  if (client.close) await client.close();
  else client.stop();
  reportResult(result);
}

// ---- parent ----

async function main() {
  const { createLocalServer } = loadDist('dev-server/index.js', 'bench/cohort.js');
  process.stdout.write(`generating ${MEMBERS} ids...\n`);
  const ids = new Array(MEMBERS);
  for (let i = 0; i < MEMBERS; i++) ids[i] = crypto.randomUUID();
  const flags = Array.from({ length: 10 }, (_, i) => cohortFlag(`cohort-flag-${i}`, 'bench-cohort'));
  const server = await createLocalServer({
    flags,
    apiKeys: [API_KEY],
    cohortKeys: [COHORT_KEYS],
    cohorts: [{ cohortId: 'bench-cohort', memberIds: ids, lastModified: 1 }],
    logRequests: false,
  });
  const bodyBytes = server.state.cohortBody('bench-cohort').length; // serialize once, before the children run
  const probes = ids.slice(0, 500);
  process.stdout.write(`cohort body ${mb(bodyBytes)}; node ${process.version}\n`);
  const results = [];
  try {
    for (const sdk of ['native', 'official']) {
      results.push(await runChild(__filename, [sdk, server.url, '--evals', String(EVALS)], { PROBES: JSON.stringify(probes) }));
    }
  } finally {
    await server.close();
  }
  const [ours, official] = results;
  const row = (r) =>
    `${r.sdk.padEnd(9)} load ${r.loadMillis.toFixed(0).padStart(5)} ms | RSS +${mb(r.rssGrowth).padStart(9)} (peak +${mb(
      r.peakRssGrowth,
    )}) | V8 heap +${mb(r.heapGrowth).padStart(8)} | event loop max ${r.eventLoopMaxMillis.toFixed(1)} ms | evaluateV2 ${r.evalMicros.toFixed(
      2,
    )} µs (10 flags), ${r.evalOneMicros.toFixed(2)} µs (1 flag)`;
  process.stdout.write(row(ours) + '\n' + row(official) + '\n');
  if (ours.storeBytes !== undefined) {
    process.stdout.write(
      `native store: ${mb(ours.storeBytes)} = ${(ours.storeBytes / MEMBERS).toFixed(1)} bytes per member (engine ${ours.engine})\n`,
    );
  }
  if (Math.abs(ours.onRatio - official.onRatio) > 1e-9) {
    process.stdout.write(`MISMATCH: share of 'on' results ${ours.onRatio} vs official ${official.onRatio}\n`);
    process.exitCode = 1;
  }
  const checks = [
    ['V8 heap growth < 5 MB', ours.heapGrowth < 5 * 1048576],
    ['RSS growth <= 1/3 of the official', ours.rssGrowth <= official.rssGrowth / 3],
    ['event loop never blocked > 50 ms while loading', ours.eventLoopMaxMillis <= 50],
  ];
  for (const [name, ok] of checks) process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}\n`);
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
}

runScript(main, child);
