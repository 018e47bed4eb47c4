/**
 * LocalEvaluationClient with redisConfig mode 'evaluation-proxy': flags and
 * cohorts from the proxy's Redis layout, nothing asked of Amplitude, start()
 * failures said once and clearly, last-known-good when Redis is away.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LocalEvaluationConfig } from '../../src/config/local';
import { redisAvailable, startRedis } from '../support/redis';
import { redisClient, useRedis } from '../support/redis-admin';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  flag,
  guardUnhandledRejections,
  localClient,
  tempDir,
  useLocalServer,
} from '../support';
import { ProxyLayoutWriter } from './layout-writer';

guardUnhandledRejections();

describe.skipIf(!redisAvailable())('client with redisConfig mode evaluation-proxy', () => {
  const redis = useRedis();
  const amplitude = useLocalServer({ flags: [flag('from-amplitude')], apiKeys: [API_KEY] }, 'all');

  const client = (extra: Partial<LocalEvaluationConfig> = {}, logger = capturingLogger()) =>
    localClient({ serverUrl: amplitude.url, redisConfig: { mode: 'evaluation-proxy', url: redis.server.url }, logger, ...extra });

  it('serves flags and cohorts from Redis; Amplitude is never asked; no cohort secret needed', async () => {
    const w = new ProxyLayoutWriter(redis.admin, '42', API_KEY);
    await w.writeProject();
    await w.writeFlags([cohortFlag('in-c1', 'c1'), flag('plain')]);
    await w.publishCohort({ cohortId: 'c1', lastModified: 10, memberIds: ['u1'] });
    const logger = capturingLogger();
    const c = client({}, logger);
    await c.start();
    expect(c.flagKeys().sort()).toEqual(['in-c1', 'plain']);
    expect(c.evaluateV2({ user_id: 'u1' }, ['in-c1'])['in-c1'].key).toBe('on');
    expect(c.evaluateV2({ user_id: 'u2' }, ['in-c1'])['in-c1'].key).toBe('off');
    expect(c.status()).toMatchObject({ state: 'ready', source: 'evaluation-proxy', flagCount: 2 });
    expect(amplitude.requests()).toEqual([]);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    // Nothing was written to Redis by the client.
    expect((await redis.admin.keys('*')).sort()).toEqual(
      [
        'amplitude:v4:projects',
        'amplitude:v4:projects:42:deployments',
        `amplitude:v4:projects:42:deployments:${API_KEY}:flags`,
        'amplitude:v4:projects:42:cohorts',
        'amplitude:v4:projects:42:memberships:User:u1',
        'amplitude:v4:{projects:42:cohort:c1}:User:10',
        'amplitude:v4:{projects:42:cohort:c1}:blob:10',
      ].sort(),
    );
  });

  it('restart: stop() closes the Redis connection, start() opens a new one and reads again', async () => {
    const w = new ProxyLayoutWriter(redis.admin, '42', API_KEY);
    await w.writeProject();
    await w.writeFlags([flag('first')]);
    const c = client();
    await c.start();
    const clients = async () =>
      String(await redis.admin.client('LIST'))
        .split('\n')
        .filter((l: string) => l.includes('evaluation-proxy-reader')).length;
    expect(await clients()).toBe(1);
    c.stop();
    await w.writeFlags([flag('second')], ['first']);
    for (let i = 0; i < 100 && (await clients()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await clients()).toBe(0);
    await c.start();
    expect(c.flagKeys()).toEqual(['second']);
    expect(await clients()).toBe(1);
  });

  it('start() rejects at once with the missing piece of the layout, logged once', async () => {
    const logger = capturingLogger();
    const c = client({ startTimeoutMillis: 30_000 }, logger);
    const started = Date.now();
    await expect(c.start()).rejects.toThrow(
      /no evaluation-proxy data in Redis: the set amplitude:v4:projects is empty or missing/,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(logger.count('error', 'amplitude:v4:projects is empty or missing')).toBeGreaterThanOrEqual(1);
    expect(c.status().state).toBe('error');
  });

  it('Redis unreachable at start: the last-known-good flags serve, with one warning; never past startTimeoutMillis', async () => {
    const path = join(tempDir('proxy-lkg'), 'flags.json');
    // A first client saves what it read from Redis.
    const w = new ProxyLayoutWriter(redis.admin, '42', API_KEY);
    await w.writeProject();
    await w.writeFlags([flag('saved')]);
    const first = client({ persistence: { path } });
    await first.start();
    await first.close();
    // The next one starts while Redis is down.
    const down = await startRedis();
    await down.stop();
    const logger = capturingLogger();
    const c = localClient({
      serverUrl: amplitude.url,
      redisConfig: { mode: 'evaluation-proxy', url: down.url, connectTimeoutMillis: 200 },
      persistence: { path, startFallbackMillis: 300 },
      startTimeoutMillis: 5_000,
      logger,
    });
    await c.start();
    expect(c.flagKeys()).toEqual(['saved']);
    expect(logger.count('warn', /flags could not be fetched at start .*serving the last-known-good flags/)).toBe(1);
    expect(logger.count('warn', /Redis connection error/)).toBe(1);
    expect(amplitude.requests()).toEqual([]);
  });

  it('Redis lost later: evaluation keeps the last flags; error events and status.lastError; ready again when Redis returns', async () => {
    const own = await startRedis();
    const writer = await redisClient(own.url);
    try {
      const w = new ProxyLayoutWriter(writer, '42', API_KEY);
      await w.writeProject();
      await w.writeFlags([cohortFlag('in-c1', 'c1')]);
      await w.publishCohort({ cohortId: 'c1', lastModified: 10, memberIds: ['u1'] });
      const logger = capturingLogger();
      // Redis is read every 100 ms (the test-only internals; the public minimum is 1 s).
      const c = localClient(
        { serverUrl: amplitude.url, redisConfig: { mode: 'evaluation-proxy', url: own.url, commandTimeoutMillis: 200 }, logger },
        { flagPolling: { intervalMillis: 100 } },
      );
      const errors: unknown[] = [];
      c.on('error', (e) => void errors.push(e));
      await c.start();
      await own.kill();
      await eventually(() => errors.length >= 1, 10_000, 'an error event');
      expect(c.evaluateV2({ user_id: 'u1' }, ['in-c1'])['in-c1'].key).toBe('on');
      expect(c.status().lastError).toBeDefined();
      expect(logger.count('warn', /reading flags from Redis failed .*the last flags keep serving/)).toBe(1);
      await own.restart();
      writer.disconnect();
      const again = await redisClient(own.url);
      const w2 = new ProxyLayoutWriter(again, '42', API_KEY);
      await w2.writeProject();
      await w2.writeFlags([cohortFlag('in-c1', 'c1')]);
      await w2.publishCohort({ cohortId: 'c1', lastModified: 11, memberIds: ['u2'] });
      await eventually(() => c.evaluateV2({ user_id: 'u2' }, ['in-c1'])['in-c1'].key === 'on', 30_000, 'new cohort version');
      expect(c.status().state).toBe('ready');
      expect(logger.count('info', 'flags are read from Redis again')).toBe(1);
    } finally {
      await own.stop();
    }
  });
});
