#!/usr/bin/env node
/**
 * Fleet mode at 16 processes, against a redis-server this script starts on a
 * random 127.0.0.1 port and the project's local Amplitude-compatible server
 * (in this process). Child processes run LocalEvaluationClient from dist/.
 *
 *   1. upstream load: flag requests and cohort downloads during the same
 *      window, 16 processes without fleet mode vs 16 in fleet mode;
 *   2. propagation: the flags change N times; for each change, how long after
 *      the writer installed it each reader did (p50/p99/max), with pub/sub
 *      wake-ups and with the version poll alone;
 *   3. writer failover: SIGKILL the writer, change the flags; time until every
 *      survivor serves the change (target: lease TTL + one interval);
 *   4. evaluateV2 cost in one process: a client fed by fleet mode vs a
 *      plain client on the same flags (target: ratio 1.00 ± 0.05).
 *
 *   npm run bench:fleet -- [--procs 16] [--interval 1000] [--window 5000] [--changes 10] [--lease 3000]
 *
 * Skips (exit 0, with a message) when redis-server is not installed.
 */
'use strict';
const { fork } = require('child_process');
const { root, silentLogger: silent, sleep, arg, startRedisServer } = require('./lib');
const fs = require('fs');
const os = require('os');
const path = require('path');

const API_KEY = 'bench-fleet-key';
const COHORT_KEYS = { apiKey: 'bench-api', secretKey: 'bench-secret' };

function flagSet(version, count = 50) {
  const off = { key: 'off', metadata: { default: true } };
  const flags = [];
  for (let i = 0; i < count; i++) {
    flags.push({
      key: `f${i}`,
      metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: version },
      segments: [
        {
          conditions: [[{ op: 'is', selector: ['context', 'user', 'user_properties', 'plan'], values: ['pro'] }]],
          variant: 'on',
        },
        { variant: i === 0 ? `v${version}` : 'off' },
      ],
      variants: { off, on: { key: 'on', value: 'on' }, [`v${version}`]: { key: `v${version}`, value: `v${version}` } },
    });
  }
  flags.push({
    key: 'in-cohort',
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
    segments: [
      { conditions: [[{ op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: ['c1'] }]], variant: 'on' },
      { variant: 'off' },
    ],
    variants: { off, on: { key: 'on', value: 'on' } },
  });
  return flags;
}

// ---------------------------------------------------------------- child

async function worker() {
  const { LocalEvaluationClient } = require(path.join(root, 'dist', 'cjs', 'local', 'client.js'));
  let client;
  let last;
  const role = () => (client && typeof client.fleetStatus === 'function' ? client.fleetStatus()?.role : 'none');
  process.on('message', async (m) => {
    if (m.cmd === 'start') {
      client = new LocalEvaluationClient(API_KEY, { ...m.config, logger: silent });
      await client.start();
      last = client.evaluateV2({ user_id: 'u' }, ['f0']).f0?.key;
      // The client's change event: the moment the new snapshot is in force in this process.
      client.on('update', () => {
        const now = client.evaluateV2({ user_id: 'u' }, ['f0']).f0?.key;
        if (now !== last) {
          last = now;
          process.send({ type: 'seen', value: now, at: Date.now(), role: role() });
        }
      });
      process.send({ type: 'ready', role: role(), value: last });
    } else if (m.cmd === 'role') {
      process.send({ type: 'role', role: role() });
    } else if (m.cmd === 'stop') {
      await client?.close({ flushTimeoutMillis: 100 });
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------- parent

class Fleet {
  constructor(n, config) {
    this.children = [];
    this.config = config;
    this.n = n;
    this.seen = [];
  }
  async start() {
    const ready = [];
    for (let i = 0; i < this.n; i++) {
      const c = fork(__filename, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
      this.children.push(c);
      c.on('message', (m) => {
        if (m.type === 'seen') this.seen.push({ child: i, ...m });
      });
      ready.push(new Promise((resolve) => c.once('message', (m) => resolve({ child: i, ...m }))));
      c.send({ cmd: 'start', config: this.config });
    }
    this.ready = await Promise.all(ready);
    return this.ready;
  }
  roles() {
    return Promise.all(
      this.children.map((c) =>
        c.connected
          ? new Promise((resolve) => {
              const on = (m) => m.type === 'role' && (c.off('message', on), resolve(m.role));
              c.on('message', on);
              c.send({ cmd: 'role' });
            })
          : 'dead',
      ),
    );
  }
  async stop() {
    await Promise.all(
      this.children.map((c) => {
        if (!c.connected) return undefined;
        return new Promise((resolve) => {
          c.once('exit', resolve);
          c.send({ cmd: 'stop' });
        });
      }),
    );
  }
  async waitAllSee(value, among, timeoutMillis) {
    const end = Date.now() + timeoutMillis;
    while (Date.now() < end) {
      const got = new Set(this.seen.filter((s) => s.value === value).map((s) => s.child));
      if (among.every((i) => got.has(i))) return true;
      await sleep(10);
    }
    return false;
  }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

async function main() {
  const PROCS = arg('--procs', 16);
  const INTERVAL = arg('--interval', 1000);
  const WINDOW = arg('--window', 5000);
  const CHANGES = arg('--changes', 10);
  const LEASE = arg('--lease', 3000);
  const distClient = path.join(root, 'dist', 'cjs', 'local', 'client.js');
  if (!fs.existsSync(distClient)) {
    console.error('bench/fleet.js: dist/ is missing; run `npm run build:ts` first');
    process.exit(1);
  }
  const redis = await startRedisServer();
  if (!redis) {
    console.log('bench/fleet.js: redis-server is not installed; skipping (apt-get install redis-server)');
    return;
  }
  const { createLocalServer } = require(path.join(root, 'dist', 'cjs', 'dev-server', 'index.js'));
  const members = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
  const server = await createLocalServer({
    flags: flagSet(1),
    cohorts: [{ cohortId: 'c1', memberIds: members, lastModified: 1 }],
  });
  const base = {
    serverUrl: server.url,
    flagConfigPollingIntervalMillis: INTERVAL,
    cohortSyncConfig: { ...COHORT_KEYS, cohortServerUrl: server.url },
  };
  let version = 1;
  const change = () => server.setFlags(flagSet(++version));
  const out = [];
  const line = (s) => {
    out.push(s);
    console.log(s);
  };
  line(
    `bench/fleet.js: ${PROCS} processes, flag interval ${INTERVAL} ms, window ${WINDOW} ms, lease ${LEASE} ms, ${os.cpus().length} cores`,
  );

  // 1. Upstream load.
  const load = {};
  for (const mode of ['direct', 'fleet']) {
    const config =
      mode === 'fleet'
        ? { ...base, redisConfig: { mode: 'fleet', url: redis.url, prefix: `bench${Date.now()}`, leaseMillis: LEASE } }
        : base;
    const fleet = new Fleet(PROCS, config);
    server.clearRequests();
    await fleet.start();
    const startup = { flags: server.requests('flags').length, cohorts: server.requests('cohort').length };
    server.clearRequests();
    await sleep(WINDOW);
    load[mode] = { startup, flags: server.requests('flags').length, cohorts: startup.cohorts + server.requests('cohort').length };
    await fleet.stop();
  }
  const perInterval = (n) => (n / (WINDOW / INTERVAL)).toFixed(1);
  line(
    `upstream flag polls in ${WINDOW} ms after start: without fleet ${load.direct.flags} (${perInterval(load.direct.flags)}/interval), ` +
      `fleet ${load.fleet.flags} (${perInterval(load.fleet.flags)}/interval): ${(load.direct.flags / Math.max(1, load.fleet.flags)).toFixed(1)}x fewer`,
  );
  line(
    `start-up of ${PROCS} processes: without fleet ${load.direct.startup.flags} flag requests, ${load.direct.cohorts} cohort downloads; ` +
      `fleet ${load.fleet.startup.flags} flag requests, ${load.fleet.cohorts} cohort downloads`,
  );

  // 2. Propagation, with pub/sub and with the version poll alone; 3. failover (pub/sub run).
  for (const pubsub of [true, false]) {
    const prefix = `bench${Date.now()}${pubsub}`;
    const fleet = new Fleet(PROCS, {
      ...base,
      redisConfig: { mode: 'fleet', url: redis.url, prefix, leaseMillis: LEASE, pubsub },
    });
    await fleet.start();
    const delays = [];
    for (let k = 0; k < CHANGES; k++) {
      change();
      const want = `v${version}`;
      const all = fleet.children.map((_, i) => i);
      if (!(await fleet.waitAllSee(want, all, INTERVAL * 3 + 5000))) line(`  change ${k}: not every process saw it`);
      const seen = fleet.seen.filter((s) => s.value === want);
      const writer = seen.find((s) => s.role === 'writer');
      if (!writer) continue;
      for (const s of seen) if (s !== writer) delays.push(s.at - writer.at);
      await sleep(Math.random() * 200);
    }
    line(
      `propagation (${pubsub ? 'pub/sub + version check' : 'version check every 1000 ms only'}): ${delays.length} reader installs, ` +
        `after the writer: p50 ${pct(delays, 50)} ms, p99 ${pct(delays, 99)} ms, max ${Math.max(...delays)} ms (target p99 <= 1500)`,
    );

    if (pubsub) {
      const roles = await fleet.roles();
      const w = roles.indexOf('writer');
      fleet.children[w].kill('SIGKILL');
      const killedAt = Date.now();
      change();
      const survivors = fleet.children.map((_, i) => i).filter((i) => i !== w);
      const ok = await fleet.waitAllSee(`v${version}`, survivors, LEASE + INTERVAL * 3 + 5000);
      const took = Math.max(...fleet.seen.filter((s) => s.value === `v${version}`).map((s) => s.at)) - killedAt;
      line(
        `writer failover (SIGKILL): every survivor served the change ${ok ? took + ' ms' : 'NOT within the limit'} after the kill ` +
          `(target <= lease ${LEASE} + interval ${INTERVAL} = ${LEASE + INTERVAL} ms)`,
      );
    }
    await fleet.stop();
  }

  // 4. evaluateV2 cost, one process: plain client vs fleet-fed client (a reader of the same Redis).
  const { LocalEvaluationClient } = require(distClient);
  const prefix = `bench-eval${Date.now()}`;
  const plain = new LocalEvaluationClient(API_KEY, { ...base, logger: silent });
  const writer = new LocalEvaluationClient(API_KEY, {
    ...base,
    logger: silent,
    redisConfig: { mode: 'fleet', url: redis.url, prefix },
  });
  await Promise.all([plain.start(), writer.start()]);
  const fed = new LocalEvaluationClient(API_KEY, {
    ...base,
    logger: silent,
    redisConfig: { mode: 'fleet', url: redis.url, prefix },
  });
  await fed.start();
  const users = Array.from({ length: 64 }, (_, i) => ({
    user_id: `user-${i * 300}`,
    user_properties: { plan: i % 2 ? 'pro' : 'free' },
  }));
  const time = (c) => {
    const n = 20_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) c.evaluateV2(users[i & 63]);
    return Number(process.hrtime.bigint() - t0) / n;
  };
  time(plain);
  time(fed);
  const a = [];
  const b = [];
  for (let r = 0; r < 7; r++) {
    a.push(time(plain));
    b.push(time(fed));
  }
  const ma = pct(a, 50);
  const mb = pct(b, 50);
  line(
    `evaluateV2 (${flagSet(1).length} flags, all): plain ${(ma / 1000).toFixed(2)} µs, fleet reader ` +
      `${(mb / 1000).toFixed(2)} µs (${fed.fleetStatus?.().role ?? '?'}): ratio ${(mb / ma).toFixed(3)}`,
  );
  await Promise.all([plain, writer, fed].map((c) => c.close({ flushTimeoutMillis: 100 })));
  await server.close();
  redis.stop();
}

if (process.argv[2] === '--worker') worker();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
