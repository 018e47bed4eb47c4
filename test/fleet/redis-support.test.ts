/** The test Redis helpers themselves: each topology starts, answers with auth, and stops cleanly. */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAvailable, startRedis, startRedisCluster, startRedisSentinel, stopAllRedis } from '../support/redis';

const portClosed = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

// Skipped only where redis-server is not installed (CI installs it; see .ci/run).
describe.skipIf(!redisAvailable())('test/support/redis', () => {
  afterAll(() => stopAllRedis());

  it('standalone with a password: rejects no auth, stops, restarts on the same port, removes its dir', async () => {
    const r = await startRedis({ password: 'pw' });
    const noAuth = await new Promise<string>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port: r.port }, () => sock.write('PING\r\n'));
      sock.once('data', (d) => (sock.destroy(), resolve(String(d))));
    });
    expect(noAuth).toMatch(/^-NOAUTH/);
    expect(await r.cli('SET', 'k', 'v')).toBe('OK');
    expect(await r.cli('GET', 'k')).toBe('v');
    expect(r.url).toBe(`redis://:pw@127.0.0.1:${r.port}`);
    await r.restart();
    expect(await r.cli('PING')).toBe('PONG');
    await r.stop();
    expect(r.running).toBe(false);
    expect(await portClosed(r.port)).toBe(true);
    await stopAllRedis();
    expect(existsSync(r.dir)).toBe(false);
  });

  // The others run side by side (their own processes and ports; a cluster or a sentinel set mostly waits to
  // converge); the standalone test above runs alone, as it stops every server this module started.
  it.concurrent('TLS: a rediss:// server with a self-signed cert', async ({ expect }) => {
    const r = await startRedis({ password: 'pw', tls: true });
    expect(r.url.startsWith('rediss://')).toBe(true);
    expect(await r.cli('PING')).toBe('PONG');
    await r.stop();
  });

  it.concurrent('cluster: 3 masters cover all slots; failover swaps a master for its replica', async ({ expect }) => {
    const c = await startRedisCluster({ password: 'pw', replicas: 1 });
    expect(c.nodes).toHaveLength(6);
    expect(await c.nodes[0].cli('CLUSTER', 'INFO')).toContain('cluster_slots_assigned:16384');
    const before = await c.masterFor('{fleet}:x');
    await c.failover('{fleet}:x');
    const after = await c.masterFor('{fleet}:x');
    expect(after.port).not.toBe(before.port);
    await c.stop();
    expect(c.nodes.every((n) => !n.running)).toBe(true);
  });

  it.concurrent('sentinel: master, replica and sentinels; failover moves the master', async ({ expect }) => {
    const s = await startRedisSentinel({ password: 'pw' });
    expect(await s.currentMasterPort()).toBe(s.master.port);
    expect(await s.replica.cli('ROLE')).toMatch(/^slave/);
    await s.failover();
    expect(await s.currentMasterPort()).toBe(s.replica.port);
    await s.stop();
  });
});
