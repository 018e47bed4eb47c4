#!/usr/bin/env node
/**
 * redisConfig mode 'evaluation-proxy' against a 1,000,000-member cohort,
 * next to the HTTP cohort path, each in its own child process (clean memory
 * numbers):
 *   - http:       cohortSyncConfig against the local server (the path bench/cohort.js measures)
 *   - redis-blob: the evaluation-proxy's Redis layout, cohort read from its blob (what the proxy writes)
 *   - redis-set:  the same with the blob deleted: cohort read from its member set (SSCAN)
 * Per mode: start() until flags and the cohort are loaded, RSS and V8 heap
 * growth after the load (after GC), peak RSS, and the event loop's longest
 * block while loading. Target: redis-blob load time and RSS no worse than http.
 *
 * Starts its own redis-server on a free 127.0.0.1 port (stopped on exit).
 *
 *   npm run build:ts && node bench/proxy-cohort.js [--members 1000000] [--runs 1]
 */
'use strict';
const crypto = require('crypto');
const zlib = require('zlib');
const {
  silentLogger,
  mb,
  arg,
  median,
  cohortFlag,
  loadDist,
  runScript,
  reportResult,
  runChild,
  measureLoad,
  sleep,
  startRedisServer,
} = require('./lib');

const MEMBERS = arg('--members', 1_000_000);
const RUNS = arg('--runs', 1);
const API_KEY = 'bench-server-key';
const COHORT_KEYS = { apiKey: 'bench-api', secretKey: 'bench-secret' };
const PROJECT = '1';
const LAST_MODIFIED = 1;
const P = 'amplitude:v4';

// ---- child: one mode ----

async function child(mode, target) {
  const { performance } = require('perf_hooks');
  const { LocalEvaluationClient } = loadDist('local/client.js', 'bench/proxy-cohort.js');
  require('ioredis'); // module loading is not part of the load
  const logger = { ...silentLogger, error: (m) => process.stderr.write(`[${mode}] ${m}\n`) };
  const config =
    mode === 'http'
      ? { serverUrl: target, cohortSyncConfig: { ...COHORT_KEYS, cohortServerUrl: target }, logger }
      : { serverUrl: 'http://127.0.0.1:9', redisConfig: { mode: 'evaluation-proxy', url: target }, logger };
  const warm = new LocalEvaluationClient(API_KEY, {
    logger,
    bootstrap: [{ ...cohortFlag('w', 'w'), segments: [{ variant: 'on' }] }],
  });
  warm.evaluateV2({ user_id: 'x' });
  await warm.close();
  await sleep(100);
  const load = measureLoad();
  // A shared, busy machine can take long: the bench measures, start() must not give up first.
  const client = new LocalEvaluationClient(API_KEY, { ...config, startTimeoutMillis: 300_000 });
  const t0 = performance.now();
  await client.start();
  const loadMillis = performance.now() - t0;
  const loaded = await load.finish();
  const members = JSON.parse(process.env.PROBES);
  let on = 0;
  for (const m of members) if (client.evaluateV2({ user_id: m }, ['cohort-flag-0'])['cohort-flag-0'].key === 'on') on++;
  for (let i = 0; i < 100; i++)
    if (client.evaluateV2({ user_id: crypto.randomUUID() }, ['cohort-flag-0'])['cohort-flag-0'].key === 'on') on = -1e9;
  await client.close();
  reportResult({
    mode,
    loadMillis,
    rssGrowth: loaded.rssGrowth,
    peakRssGrowth: loaded.peakRssGrowth,
    heapGrowth: loaded.heapGrowth,
    eventLoopMaxMillis: loaded.eventLoopMaxMillis,
    correct: on === members.length,
  });
}

// ---- parent ----

/** A redis-server for the layout, and a client to write it. */
async function startRedis() {
  const server = await startRedisServer();
  if (!server) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const { Redis } = require('ioredis');
  const client = new Redis({
    port: server.port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: (n) => (n > 50 ? null : 50),
  });
  client.on('error', () => undefined);
  await client.connect();
  return { url: server.url, client, stop: server.stop };
}

/** The evaluation-proxy's layout: project, deployment, flags, the cohort's member set and blob, then its description. */
async function writeLayout(redis, flags, ids) {
  await redis.sadd(`${P}:projects`, PROJECT);
  await redis.hset(
    `${P}:projects:${PROJECT}:deployments`,
    API_KEY,
    JSON.stringify({ id: 'd', projectId: PROJECT, label: 'bench', key: API_KEY }),
  );
  for (const f of flags) await redis.hset(`${P}:projects:${PROJECT}:deployments:${API_KEY}:flags`, f.key, JSON.stringify(f));
  const setKey = `${P}:{projects:${PROJECT}:cohort:bench-cohort}:User:${LAST_MODIFIED}`;
  for (let i = 0; i < ids.length; i += 10_000) await redis.sadd(setKey, ...ids.slice(i, i + 10_000));
  const json = `{"cohortId":"bench-cohort","groupType":"User","lastModified":${LAST_MODIFIED},"size":${ids.length},"memberIds":${JSON.stringify(ids)}}`;
  const blob = zlib.gzipSync(json).toString('base64');
  await redis.set(`${P}:{projects:${PROJECT}:cohort:bench-cohort}:blob:${LAST_MODIFIED}`, blob);
  await redis.hset(
    `${P}:projects:${PROJECT}:cohorts`,
    'bench-cohort',
    JSON.stringify({ cohortId: 'bench-cohort', groupType: 'User', size: ids.length, lastModified: LAST_MODIFIED }),
  );
  return blob.length;
}

async function main() {
  const { createLocalServer } = loadDist('dev-server/index.js', 'bench/proxy-cohort.js');
  process.stdout.write(`generating ${MEMBERS} ids...\n`);
  const ids = new Array(MEMBERS);
  for (let i = 0; i < MEMBERS; i++) ids[i] = crypto.randomUUID();
  const flags = Array.from({ length: 10 }, (_, i) => cohortFlag(`cohort-flag-${i}`, 'bench-cohort'));
  const server = await createLocalServer({
    flags,
    apiKeys: [API_KEY],
    cohortKeys: [COHORT_KEYS],
    cohorts: [{ cohortId: 'bench-cohort', memberIds: ids, lastModified: LAST_MODIFIED }],
    logRequests: false,
  });
  const redis = await startRedis();
  const results = [];
  try {
    const bodyBytes = server.state.cohortBody('bench-cohort').length;
    const blobBytes = await writeLayout(redis.client, flags, ids);
    process.stdout.write(
      `cohort body ${mb(bodyBytes)} (HTTP); blob ${mb(blobBytes)} base64 gzip (Redis); node ${process.version}\n`,
    );
    const probes = ids.slice(0, 500);
    for (let run = 0; run < RUNS; run++) {
      results.push(await runChild(__filename, ['http', server.url], { PROBES: JSON.stringify(probes) }));
      results.push(await runChild(__filename, ['redis-blob', redis.url], { PROBES: JSON.stringify(probes) }));
    }
    await redis.client.del(`${P}:{projects:${PROJECT}:cohort:bench-cohort}:blob:${LAST_MODIFIED}`);
    results.push(await runChild(__filename, ['redis-set', redis.url], { PROBES: JSON.stringify(probes) }));
  } finally {
    redis.client.disconnect();
    redis.stop();
    await server.close();
  }
  for (const r of results) {
    process.stdout.write(
      `${r.mode.padEnd(10)} load ${r.loadMillis.toFixed(0).padStart(5)} ms | RSS +${mb(r.rssGrowth).padStart(9)} (peak +${mb(r.peakRssGrowth)}) | ` +
        `V8 heap +${mb(r.heapGrowth).padStart(8)} | event loop max ${r.eventLoopMaxMillis.toFixed(1)} ms${r.correct ? '' : ' | WRONG ANSWERS'}\n`,
    );
  }
  const medianOf = (mode, field) => median(results.filter((r) => r.mode === mode).map((r) => r[field]));
  const ratio = (field) => medianOf('redis-blob', field) / medianOf('http', field);
  process.stdout.write(
    `redis-blob / http: load time ${ratio('loadMillis').toFixed(2)}x, RSS growth ${ratio('rssGrowth').toFixed(2)}x\n`,
  );
  const checks = [
    ['every mode answers correctly', results.every((r) => r.correct)],
    ['redis-blob load time no worse than http (<= 1.10x, noise allowance)', ratio('loadMillis') <= 1.1],
    ['redis-blob RSS growth no worse than http (<= 1.10x)', ratio('rssGrowth') <= 1.1],
  ];
  for (const [name, ok] of checks) process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}\n`);
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
}

runScript(main, child);
