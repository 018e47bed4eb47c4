/** Fleet mode through the public client: status and fleetStatus while Redis goes away and comes back. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLocalServer, type LocalServer } from '../../src/dev-server';
import { capturingLogger, closeClients, eventually, flag, guardUnhandledRejections, localClient } from '../support';
import { redisAvailable, startRedis, stopAllRedis } from '../support/redis';

describe.skipIf(!redisAvailable())('LocalEvaluationClient with redisConfig mode fleet', () => {
  guardUnhandledRejections();
  let server: LocalServer;
  afterEach(async () => {
    await closeClients();
    await server?.close();
  });
  afterAll(() => stopAllRedis());

  it('two clients form a fleet; Redis lost: flags keep serving, status shows the error; Redis back: the fleet re-forms', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')] });
    const redis = await startRedis({ password: 'pw' });
    const redisConfig = {
      mode: 'fleet' as const,
      url: redis.url,
      updateCheckMillis: 50,
      leaseMillis: 1000,
      commandTimeoutMillis: 1000,
      directFallbackMillis: 0,
    };
    const logs = [capturingLogger(), capturingLogger()];
    // The writer polls Amplitude every 100 ms (the test-only internals; the public minimum is 1 s).
    const clients = logs.map((logger) =>
      localClient({ serverUrl: server.url, redisConfig, logger }, { flagPolling: { intervalMillis: 100 } }),
    );
    await Promise.all(clients.map((c) => c.start()));
    await eventually(
      () =>
        clients
          .map((c) => c.fleetStatus()?.role)
          .sort()
          .join() === 'reader,writer',
      10_000,
      'one writer',
    );
    const reader = clients.find((c) => c.fleetStatus()?.role === 'reader');
    expect(reader?.status()).toMatchObject({ state: 'ready', source: 'redis-fleet', flagCount: 1 });

    await redis.stop();
    // Both views of the outage: the client's status (last error) and the fleet status (connection state).
    await eventually(() => reader?.status().lastError !== undefined, 10_000, 'the error in status()');
    await eventually(() => reader?.fleetStatus()?.redis !== 'ready', 10_000, 'the connection state in fleetStatus()');
    expect(reader?.evaluateV2({ user_id: 'x' }).a?.key).toBe('on');
    // directFallbackMillis 0: nobody polls Amplitude past Redis; one warning per process about the outage.
    expect(clients.map((c) => c.fleetStatus()?.role).sort()).not.toContain('direct');
    await eventually(() => logs.every((l) => l.count('warn', /Redis connection (error|lost)/) > 0), 10_000, 'the outage warning');
    for (const l of logs) expect(l.count('warn', /Redis connection (error|lost)/)).toBe(1);

    await redis.restart();
    server.setFlags([flag('a', 'off', 2)]);
    await eventually(
      () => clients.every((c) => c.evaluateV2({ user_id: 'x' }).a?.key === 'off'),
      15_000,
      'updates after reconnect',
    );
    await eventually(
      () =>
        clients
          .map((c) => c.fleetStatus()?.role)
          .sort()
          .join() === 'reader,writer',
      10_000,
      'one writer',
    );
  }, 60_000);

  it('a rejected deployment key fails start() at once, as without fleet mode', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')], apiKeys: ['some-other-key'] });
    const redis = await startRedis();
    const c = localClient({
      serverUrl: server.url,
      startTimeoutMillis: 30_000,
      redisConfig: { mode: 'fleet', url: redis.url, updateCheckMillis: 50 },
    });
    await expect(c.start()).rejects.toThrow(/status 401/);
    expect(server.requests('flags')).toHaveLength(1);
  });

  it('without redisConfig there is no fleet status', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')] });
    const c = localClient({ serverUrl: server.url });
    await c.start();
    expect(c.fleetStatus()).toBeUndefined();
  });
});
