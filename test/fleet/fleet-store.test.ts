/** Lease, publisher and reader against real redis-server: standalone and a 3-master Cluster. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRedisConfig } from '../../src/redis/config';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection';
import { FleetKeys } from '../../src/redis/fleet-layout';
import { FleetPublisher } from '../../src/redis/fleet-publisher';
import { FleetReader } from '../../src/redis/fleet-reader';
import { Lease } from '../../src/redis/lease';
import { capturingLogger } from '../support';
import { createLogger } from '../../src/util/logger';
import {
  redisAvailable,
  startRedis,
  startRedisCluster,
  stopAllRedis,
  type RedisCluster,
  type RedisProcess,
} from '../support/redis';

const quiet = createLogger({ logger: capturingLogger() });
const PUBLISH_OPTS = { orphanTtlMillis: 60_000, graceMillis: 30_000 };

describe.skipIf(!redisAvailable())('fleet store', () => {
  let redis: RedisProcess;
  let cluster: RedisCluster;
  const conns: RedisConnection[] = [];
  const connect = async (cfg: Parameters<typeof resolveRedisConfig>[0]): Promise<RedisConnection> => {
    const c = createRedisConnection(
      resolveRedisConfig(cfg, () => undefined),
      quiet,
      'test',
    );
    conns.push(c);
    await c.ready(Date.now() + 10_000);
    return c;
  };

  beforeAll(async () => {
    [redis, cluster] = await Promise.all([startRedis({ password: 'pw' }), startRedisCluster({ password: 'pw' })]);
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await stopAllRedis();
  });

  it('lease: one holder at a time; renew and release only by the holder; expiry frees it', async () => {
    const { client } = await connect({ mode: 'fleet', url: redis.url });
    const keys = new FleetKeys('t1', 'server-key');
    const a = new Lease(client, keys.lease, 1000);
    const b = new Lease(client, keys.lease, 1000);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true); // renews
    await b.release(); // not b's: no effect
    expect(await redis.cli('GET', keys.lease)).toBe(a.token);
    await a.release();
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    expect(a.held).toBe(false);
    expect(Number(await redis.cli('PTTL', keys.lease))).toBeGreaterThan(0); // the lease always carries a TTL
  });

  it('keys never contain the deployment key and share one hash tag', () => {
    const keys = new FleetKeys('amplitude', 'server-secret-deployment');
    const all = [keys.lease, keys.meta, keys.channel, keys.flags('abc'), keys.cohort('c1', 5)];
    for (const k of all) {
      expect(k).not.toContain('server-secret-deployment');
      expect(k).toMatch(/^amplitude:fleet:\{[0-9a-f]{16}\}:/);
    }
  });

  for (const topology of ['standalone', 'cluster'] as const) {
    it(`${topology}: publish flips atomically, readers see versions, old data expires after grace`, async () => {
      const cfg =
        topology === 'cluster'
          ? { mode: 'fleet' as const, cluster: { nodes: cluster.startNodes }, password: 'pw' }
          : { mode: 'fleet' as const, url: redis.url };
      const { client } = await connect(cfg);
      const keys = new FleetKeys(`t-${topology}`, 'server-key');
      const lease = new Lease(client, keys.lease, 5000);
      expect(await lease.acquire()).toBe(true);
      const pub = new FleetPublisher(client, keys, lease, 'w1', PUBLISH_OPTS);
      const reader = new FleetReader(client, keys);
      expect(await reader.version()).toBeUndefined();

      const body = Buffer.from(
        JSON.stringify({ cohortId: 'c1', groupType: 'User', lastModified: 7, size: 1, memberIds: ['u1'] }),
      );
      await pub.putCohort('c1', 7, body);
      const sha1 = await pub.putFlags('[{"key":"a"}]');
      const r1 = await pub.publish({ flags: sha1, cohorts: { c1: 7 } }, 1000);
      expect(r1).toEqual({ kind: 'published', version: 1 });
      const m1 = await reader.meta();
      expect(m1).toMatchObject({ version: 1, syncedAt: 1000, writer: 'w1', manifest: { flags: sha1, cohorts: { c1: 7 } } });
      expect(String(await reader.flags(sha1))).toBe('[{"key":"a"}]');
      expect(await reader.cohort('c1', 7)).toEqual(body);

      // Same content again: version unchanged, sync time recorded.
      expect(await pub.publish({ flags: sha1, cohorts: { c1: 7 } }, 2000)).toEqual({ kind: 'unchanged', version: 1 });
      expect(await reader.version()).toMatchObject({ version: 1, syncedAt: 2000, publishedAt: 1000 });

      // A manifest naming data that is not stored is refused; nothing changes.
      expect(await pub.publish({ flags: sha1, cohorts: { c1: 8 } }, 3000)).toEqual({
        kind: 'missing',
        key: keys.cohort('c1', 8),
      });
      expect((await reader.meta())?.version).toBe(1);

      const sha2 = await pub.putFlags('[{"key":"b"}]');
      expect(await pub.publish({ flags: sha2, cohorts: {} }, 4000)).toEqual({ kind: 'published', version: 2 });
      // The replaced version's data stays readable for the grace period, then expires; the new one is persistent.
      const node = topology === 'cluster' ? await cluster.masterFor(keys.meta) : redis;
      const pttlOld = Number(await node.cli('PTTL', keys.flags(sha1)));
      expect(pttlOld).toBeGreaterThan(0);
      expect(pttlOld).toBeLessThanOrEqual(PUBLISH_OPTS.graceMillis);
      expect(Number(await node.cli('PTTL', keys.cohort('c1', 7)))).toBeGreaterThan(0);
      expect(Number(await node.cli('PTTL', keys.flags(sha2)))).toBe(-1);
      await lease.release();
    });
  }

  it('a lease lost mid-publish: the flip is refused and the published snapshot stays', async () => {
    const { client } = await connect({ mode: 'fleet', url: redis.url });
    const keys = new FleetKeys('t-lost', 'server-key');
    const lease = new Lease(client, keys.lease, 5000);
    expect(await lease.acquire()).toBe(true);
    const pub = new FleetPublisher(client, keys, lease, 'w1', PUBLISH_OPTS);
    const sha1 = await pub.putFlags('[1]');
    expect((await pub.publish({ flags: sha1, cohorts: {} }, 1)).kind).toBe('published');
    const sha2 = await pub.putFlags('[2]');
    // Another process took over between storing the data and the flip (our lease had expired).
    await redis.cli('SET', keys.lease, 'someone-else', 'PX', '5000');
    expect(await pub.publish({ flags: sha2, cohorts: {} }, 2)).toEqual({ kind: 'lease-lost' });
    expect(lease.held).toBe(false);
    const meta = await new FleetReader(client, keys).meta();
    expect(meta?.manifest.flags).toBe(sha1);
    // The orphaned data key expires on its own.
    expect(Number(await redis.cli('PTTL', keys.flags(sha2)))).toBeGreaterThan(0);
  });

  it('pub/sub announces each new version', async () => {
    const conn = await connect({ mode: 'fleet', url: redis.url });
    const keys = new FleetKeys('t-sub', 'server-key');
    const seen: number[] = [];
    const unsubscribe = new FleetReader(conn.client, keys).subscribe(conn, (v) => seen.push(v));
    const lease = new Lease(conn.client, keys.lease, 5000);
    await lease.acquire();
    const pub = new FleetPublisher(conn.client, keys, lease, 'w', PUBLISH_OPTS);
    // Wait until the subscription is in place (NUMSUB counts it).
    for (let i = 0; i < 200 && !(await redis.cli('PUBSUB', 'NUMSUB', keys.channel)).endsWith('1'); i++)
      await new Promise((r) => setTimeout(r, 10));
    await pub.publish({ flags: await pub.putFlags('[1]'), cohorts: {} }, 1);
    await pub.publish({ flags: await pub.putFlags('[2]'), cohorts: {} }, 2);
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([1, 2]);
    unsubscribe();
  });
});
