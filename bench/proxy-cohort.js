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
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MEMBERS = arg('--members', 1_000_000);
const RUNS = arg('--runs', 1);
const API_KEY = 'bench-server-key';
const COHORT_KEYS = { apiKey: 'bench-api', secretKey: 'bench-secret' };
const PROJECT = '1';
const LAST_MODIFIED = 1;
const P = 'amplitude:v4';

function cohortFlag(key, cohortId) {
  return {
    key,
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
    segments: [
      {
        conditions: [[{ op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: [cohortId] }]],
        metadata: { segmentName: 'Cohort' },
        variant: 'on',
      },
      { metadata: { segmentName: 'All Other Users' }, variant: 'off' },
    ],
    variants: { off: { key: 'off', metadata: { default: true } }, on: { key: 'on', value: 'on' } },
  };
}

// ---- child: one mode ----

async function child(mode, target) {
  const { monitorEventLoopDelay, performance } = require('perf_hooks');
  const gc = () => {
    global.gc();
    global.gc();
  };
  const { LocalEvaluationClient } = require(path.join(root, 'dist', 'cjs', 'local', 'client.js'));
  require('ioredis'); // module loading is not part of the load
  const silent = { debug() {}, info() {}, warn() {}, error: (m) => process.stderr.write(`[${mode}] ${m}\n`), verbose() {} };
  const config =
    mode === 'http'
      ? { serverUrl: target, cohortSyncConfig: { ...COHORT_KEYS, cohortServerUrl: target }, logger: silent }
      : { serverUrl: 'http://127.0.0.1:9', redisConfig: { mode: 'evaluation-proxy', url: target }, logger: silent };
  const warm = new LocalEvaluationClient(API_KEY, {
    logger: silent,
    bootstrap: [{ ...cohortFlag('w', 'w'), segments: [{ variant: 'on' }] }],
  });
  warm.evaluateV2({ user_id: 'x' });
  await warm.close();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let lastTick = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - lastTick - 5);
    lastTick = now;
  }, 5);
  // A shared, busy machine can take long: the bench measures, start() must not give up first.
  const client = new LocalEvaluationClient(API_KEY, { ...config, startTimeoutMillis: 300_000 });
  const t0 = performance.now();
  await client.start();
  const loadMillis = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  loop.disable();
  clearInterval(sampler);
  clearInterval(ticker);
  await new Promise((r) => setTimeout(r, 200));
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const after = process.memoryUsage();
  const members = JSON.parse(process.env.PROBES);
  let on = 0;
  for (const m of members) if (client.evaluateV2({ user_id: m }, ['cohort-flag-0'])['cohort-flag-0'].key === 'on') on++;
  for (let i = 0; i < 100; i++)
    if (client.evaluateV2({ user_id: crypto.randomUUID() }, ['cohort-flag-0'])['cohort-flag-0'].key === 'on') on = -1e9;
  await client.close();
  process.stdout.write(
    'RESULT ' +
      JSON.stringify({
        mode,
        loadMillis,
        rssGrowth: after.rss - base.rss,
        peakRssGrowth: peakRss - base.rss,
        heapGrowth: after.heapUsed - base.heapUsed,
        eventLoopMaxMillis: Math.max(loop.max / 1e6, maxGap),
        correct: on === members.length,
      }) +
      '\n',
  );
}

// ---- parent ----

function runChild(mode, target, probes) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', __filename, '--child', mode, target], {
      cwd: root,
      env: { ...process.env, PROBES: JSON.stringify(probes), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${mode} child failed (code ${code}):\n${out}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedisServer() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-proxy-redis-'));
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  const stop = () => {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  const { Redis } = require('ioredis');
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: (n) => (n > 50 ? null : 50) });
  client.on('error', () => undefined);
  await client.connect();
  return { url: `redis://127.0.0.1:${port}`, client, stop };
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

const mb = (b) => (b / 1048576).toFixed(1) + ' MB';

async function main() {
  const { createLocalServer } = require(path.join(root, 'dist', 'cjs', 'dev-server', 'index.js'));
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
  const redis = await startRedisServer();
  const results = [];
  try {
    const bodyBytes = server.state.cohortBody('bench-cohort').length;
    const blobBytes = await writeLayout(redis.client, flags, ids);
    process.stdout.write(
      `cohort body ${mb(bodyBytes)} (HTTP); blob ${mb(blobBytes)} base64 gzip (Redis); node ${process.version}\n`,
    );
    const probes = ids.slice(0, 500);
    for (let run = 0; run < RUNS; run++) {
      results.push(await runChild('http', server.url, probes));
      results.push(await runChild('redis-blob', redis.url, probes));
    }
    await redis.client.del(`${P}:{projects:${PROJECT}:cohort:bench-cohort}:blob:${LAST_MODIFIED}`);
    results.push(await runChild('redis-set', redis.url, probes));
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
  const median = (mode, field) => {
    const v = results
      .filter((r) => r.mode === mode)
      .map((r) => r[field])
      .sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const ratio = (field) => median('redis-blob', field) / median('http', field);
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

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
