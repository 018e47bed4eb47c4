/** Fleet mode end to end inside one process: several members share one Redis and one fake Amplitude. */
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createLocalServer, type LocalServer } from '../../src/dev-server';
import { cohortFlag, eventually, flag, guardUnhandledRejections } from '../support';
import {
  redisAvailable,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
  stopAllRedis,
  type RedisProcess,
} from '../support/redis';
import { fleetMember, stopMembers, type FleetMember } from '../support/fleet';
import { resolveRedisConfig } from '../../src/redis/config';
import { createRedisConnection } from '../../src/redis/connection';
import { FleetKeys } from '../../src/redis/fleet-layout';
import { FleetPublisher } from '../../src/redis/fleet-publisher';
import { Lease } from '../../src/redis/lease';
import { createLogger } from '../../src/util/logger';

const KEY = 'server-fleet-key';
const FAST = { updateCheckMillis: 50, leaseMillis: 1000 };
let prefixes = 0;

/** `n` started members on `server` and one Redis (`redisConfig`), under a key prefix of their own. */
async function startFleet(
  server: LocalServer,
  n: number,
  extra: Record<string, unknown>,
  redisConfig: Record<string, unknown>,
): Promise<{ ms: FleetMember[]; prefix: string }> {
  const prefix = `t${++prefixes}`;
  const ms = Array.from({ length: n }, () =>
    fleetMember(
      KEY,
      {
        serverUrl: server.url,
        flagConfigPollingIntervalMillis: 1000,
        cohortSyncConfig: { apiKey: 'a', secretKey: 's', cohortServerUrl: server.url },
        redisConfig: { mode: 'fleet', prefix, ...FAST, ...redisConfig },
        ...extra,
      },
      { cohortPollingIntervalMillis: 500, flagPolling: { intervalMillis: 250 } },
    ),
  );
  await Promise.all(ms.map((m) => m.start()));
  return { ms, prefix };
}
const roles = (ms: FleetMember[]): string[] => ms.map((m) => m.source.fleetStatus().role).sort();

describe.skipIf(!redisAvailable())('fleet mode', () => {
  guardUnhandledRejections();
  let server: LocalServer;
  let redis: RedisProcess;

  beforeAll(async () => {
    redis = await startRedis({ password: 'pw' });
  });
  afterEach(async () => {
    await stopMembers();
    await server?.close();
  });
  afterAll(() => stopAllRedis());

  const fleet = async (
    n: number,
    extra: Record<string, unknown> = {},
    redisConfig: Record<string, unknown> = { url: redis.url },
  ): Promise<FleetMember[]> => (await startFleet(server, n, extra, redisConfig)).ms;

  it('one writer fetches flags and cohorts; the others read them from Redis; a change reaches everyone', async () => {
    server = await createLocalServer({
      flags: [flag('plain', 'on'), cohortFlag('vip', 'c1')],
      cohorts: [{ cohortId: 'c1', memberIds: ['u1', 'u2'], lastModified: 100 }],
    });
    const ms = await fleet(4);
    await eventually(() => roles(ms).join() === 'reader,reader,reader,writer', 10_000, 'one writer, three readers');
    await eventually(
      () => ms.every((m) => m.holder.evaluate({ user_id: 'u1' }).vip?.key === 'on'),
      10_000,
      'cohort flag everywhere',
    );
    for (const m of ms) expect(m.holder.evaluate({ user_id: 'u3' }).vip?.key).toBe('off');
    // Exactly one process downloaded the cohort (later requests are the writer's refreshes, answered 204).
    expect(server.requests('cohort').filter((r) => r.status === 200)).toHaveLength(1);
    expect(server.requests('cohort').filter((r) => r.status !== 204)).toHaveLength(1);
    const writer = ms.find((m) => m.source.fleetStatus().role === 'writer') as FleetMember;
    const readers = ms.filter((m) => m !== writer);
    for (const r of readers) expect(r.holder.installs.includes('redis-fleet')).toBe(true);

    server.setFlags([flag('plain', 'off', 2), cohortFlag('vip', 'c1')]);
    await eventually(
      () => ms.every((m) => m.holder.evaluate({ user_id: 'u9' }).plain?.key === 'off'),
      10_000,
      'the change everywhere',
    );
    const s = readers[0].source.fleetStatus();
    expect(s.version).toBe(2);
    expect(s.writer).toBe(writer.source.fleetStatus().writer);
    expect(s.syncedAt).toBeGreaterThan(0);

    // A new cohort version is downloaded once and reaches the readers through Redis.
    server.setCohort({ cohortId: 'c1', memberIds: ['u3'], lastModified: 200 });
    await eventually(() => ms.every((m) => m.holder.evaluate({ user_id: 'u3' }).vip?.key === 'on'), 15_000, 'new cohort version');
    expect(server.requests('cohort').filter((r) => r.status === 200)).toHaveLength(2);
  }, 60_000);

  it('a writer that stops hands over: another process becomes writer and keeps publishing', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')] });
    const ms = await fleet(3);
    // A loaded machine can stall a writer past its lease: then the role moves, which is what leases are for.
    await eventually(() => ms.some((m) => m.source.fleetStatus().role === 'writer'), 10_000, 'a writer');
    const writer = ms.find((m) => m.source.fleetStatus().role === 'writer') as FleetMember;
    await writer.stop();
    const rest = ms.filter((m) => m !== writer);
    await eventually(() => rest.some((m) => m.source.fleetStatus().role === 'writer'), 10_000, 'a new writer');
    server.setFlags([flag('a', 'off', 2)]);
    await eventually(
      () => rest.every((m) => m.holder.evaluate({ user_id: 'x' }).a?.key === 'off'),
      10_000,
      'published by the new writer',
    );
  }, 30_000);

  it('lease taken away mid-flight: the old writer turns reader and never publishes again', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')] });
    const [m] = await fleet(1);
    expect(m.source.fleetStatus().role).toBe('writer');
    const prefix = `t${prefixes}`;
    const keys = (await redis.cli('--scan', '--pattern', `${prefix}:fleet:*:lease`)).split('\n');
    await redis.cli('SET', keys[0], 'another-process', 'PX', '60000');
    await eventually(() => m.source.fleetStatus().role === 'reader', 10_000, 'demotion');
    expect(m.log.count('warn', /lease was taken over|lost while publishing/)).toBe(1);
    // The process that holds the lease now publishes; the demoted one installs that version and writes nothing.
    const conn = createRedisConnection(
      resolveRedisConfig({ mode: 'fleet', url: redis.url }, () => undefined),
      createLogger({ logger: m.log }),
      'test',
    );
    try {
      await conn.ready(Date.now() + 5000);
      const fleetKeys = new FleetKeys(prefix, KEY);
      const other = new Lease(conn.client, fleetKeys.lease, 60_000, 'another-process');
      const pub = new FleetPublisher(conn.client, fleetKeys, other, 'other', { orphanTtlMillis: 60_000, graceMillis: 60_000 });
      const r = await pub.publish({ flags: await pub.putFlags(JSON.stringify([flag('a', 'off', 9)])), cohorts: {} }, Date.now());
      expect(r.kind).toBe('published');
      await eventually(() => m.holder.evaluate({ user_id: 'x' }).a?.key === 'off', 10_000, "the other writer's version");
      expect(m.source.fleetStatus()).toMatchObject({ role: 'reader', writer: 'other' });
      expect(Number(await redis.cli('HGET', fleetKeys.meta, 'version'))).toBe((r as { version: number }).version);
    } finally {
      await conn.close();
    }
  }, 30_000);

  it('auth failure: one clear error, start falls back to Amplitude directly', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')] });
    const bad = redis.url.replace(':pw@', ':wrong@');
    const [m] = await fleet(1, { startTimeoutMillis: 5000 }, { url: bad, directFallbackMillis: 2000 });
    expect(m.holder.evaluate({ user_id: 'x' }).a?.key).toBe('on');
    expect(m.source.fleetStatus().role).toBe('direct');
    expect(m.log.count('error', /Redis rejected the credentials/)).toBe(1);
  }, 30_000);
});

// Each with its own local server, Redis and members: these mostly wait (for a fallback, a reconnection, a
// failover), side by side.
describe.skipIf(!redisAvailable()).concurrent('fleet mode: Redis unreachable, lost, failing over', () => {
  guardUnhandledRejections();
  afterAll(() => stopAllRedis());
  /** startFleet, with the members stopped when the test (whose onTestFinished this is) finishes. */
  async function startFleetHere(
    onTestFinished: TestContext['onTestFinished'],
    ...args: Parameters<typeof startFleet>
  ): ReturnType<typeof startFleet> {
    const started = await startFleet(...args);
    onTestFinished(() => stopMembers(started.ms));
    return started;
  }

  /** A local server serving flag a = on, closed when the test finishes. */
  async function serverHere(onTestFinished: TestContext['onTestFinished']): Promise<LocalServer> {
    const server = await createLocalServer({ flags: [flag('a', 'on')] });
    onTestFinished(() => server.close());
    return server;
  }

  it('Redis unreachable at start: starts from Amplitude directly with one warning, within the start timeout', async ({
    expect,
    onTestFinished,
  }) => {
    const server = await serverHere(onTestFinished);
    const dead = await startRedis();
    await dead.stop();
    const t0 = Date.now();
    const {
      ms: [m],
    } = await startFleetHere(
      onTestFinished,
      server,
      1,
      { startTimeoutMillis: 8000 },
      { url: dead.url, directFallbackMillis: 1000, connectTimeoutMillis: 200 },
    );
    expect(Date.now() - t0).toBeLessThan(8000); // never past startTimeoutMillis
    expect(m.holder.evaluate({ user_id: 'x' }).a?.key).toBe('on');
    expect(m.source.fleetStatus().role).toBe('direct');
    expect(m.log.count('warn', /Redis is unreachable at start/)).toBe(1);
    // Redis comes back: the process joins the fleet (as its writer, being alone).
    await dead.restart();
    await eventually(() => m.source.fleetStatus().role === 'writer', 15_000, 'joined the fleet');
  }, 30_000);

  it('Redis lost later: the last flags keep serving, status shows it, readers fall back to Amplitude, then rejoin', async ({
    expect,
    onTestFinished,
  }) => {
    const server = await serverHere(onTestFinished);
    const own = await startRedis();
    const { ms } = await startFleetHere(
      onTestFinished,
      server,
      2,
      {},
      { url: own.url, directFallbackMillis: 1000, commandTimeoutMillis: 300 },
    );
    const reader = ms.find((m) => m.source.fleetStatus().role === 'reader') as FleetMember;
    await own.stop();
    expect(reader.holder.evaluate({ user_id: 'x' }).a?.key).toBe('on');
    await eventually(() => reader.source.fleetStatus().redis !== 'ready', 10_000, 'status to show the outage');
    await eventually(() => ms.every((m) => m.source.fleetStatus().role === 'direct'), 15_000, 'direct fallback');
    expect(reader.holder.errors.length).toBeGreaterThan(0);
    server.setFlags([flag('a', 'off', 2)]);
    await eventually(
      () => ms.every((m) => m.holder.evaluate({ user_id: 'x' }).a?.key === 'off'),
      10_000,
      'fresh flags without Redis',
    );
    await own.restart();
    await eventually(() => roles(ms).join() === 'reader,writer', 15_000, 'fleet re-formed');
  }, 60_000);

  it('Sentinel failover while evaluating: evaluation never stops and publishing resumes on the new master', async ({
    expect,
    onTestFinished,
  }) => {
    const server = await serverHere(onTestFinished);
    const s = await startRedisSentinel({ password: 'pw' });
    const { ms } = await startFleetHere(
      onTestFinished,
      server,
      2,
      {},
      { sentinel: { sentinels: s.sentinelNodes, name: s.masterName }, password: 'pw', commandTimeoutMillis: 500 },
    );
    let evaluations = 0;
    let wrong = 0;
    const loop = setInterval(() => {
      for (const m of ms) {
        evaluations++;
        if (m.holder.evaluate({ user_id: 'x' }).a === undefined) wrong++;
      }
    }, 5);
    try {
      await s.failover();
      server.setFlags([flag('a', 'off', 2)]);
      await eventually(
        () => ms.every((m) => m.holder.evaluate({ user_id: 'x' }).a?.key === 'off'),
        20_000,
        'update after failover',
      );
    } finally {
      clearInterval(loop);
    }
    expect(evaluations).toBeGreaterThan(0);
    expect(wrong).toBe(0);
    await s.stop();
  }, 60_000);

  it('Cluster failover while evaluating: the fleet keeps one view and resumes publishing', async ({ expect, onTestFinished }) => {
    const server = await serverHere(onTestFinished);
    const c = await startRedisCluster({ password: 'pw', replicas: 1 });
    const { ms, prefix } = await startFleetHere(
      onTestFinished,
      server,
      2,
      {},
      { cluster: { nodes: c.startNodes }, password: 'pw', commandTimeoutMillis: 500 },
    );
    await eventually(() => roles(ms).join() === 'reader,writer', 10_000, 'one writer, one reader');
    const metaKey = (await c.nodes[0].cli('-c', '--scan', '--pattern', `${prefix}:fleet:*:meta`)).split('\n')[0];
    let wrong = 0;
    const loop = setInterval(() => {
      for (const m of ms) if (m.holder.evaluate({ user_id: 'x' }).a === undefined) wrong++;
    }, 5);
    try {
      await c.failover(metaKey || `{x}`);
      server.setFlags([flag('a', 'off', 2)]);
      await eventually(
        () => ms.every((m) => m.holder.evaluate({ user_id: 'x' }).a?.key === 'off'),
        20_000,
        'update after failover',
      );
    } finally {
      clearInterval(loop);
    }
    expect(wrong).toBe(0);
    await c.stop();
  }, 60_000);
});
