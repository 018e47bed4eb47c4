/** redisConfig validation, TLS connections and the missing-client error. */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/common';
import { resolveRedisConfig } from '../../src/redis/config';
import { createRedisConnection, isRedisAuthError } from '../../src/redis/connection';
import { createLogger } from '../../src/util/logger';
import { capturingLogger, closeClientsAfterEach, guardUnhandledRejections, localClient, stateAfterThisTurn } from '../support';
import { freePort, redisAvailable, startRedis, stopAllRedis } from '../support/redis';

guardUnhandledRejections();
closeClientsAfterEach();

const none = (): void => undefined;

describe('resolveRedisConfig', () => {
  it('defaults', () => {
    const r = resolveRedisConfig({ mode: 'fleet', url: 'redis://h:1' }, none);
    expect(r).toMatchObject({
      prefix: 'amplitude',
      leaseMillis: 10_000,
      updateCheckMillis: 1000,
      directFallbackMillis: 10_000,
      pubsub: true,
      connectTimeoutMillis: 5000,
      commandTimeoutMillis: 5000,
    });
  });

  it.each([
    [{ mode: 'fleet' }, /needs url, cluster, sentinel or client/],
    [{ mode: 'other', url: 'redis://h:1' }, /mode must be 'fleet' or 'evaluation-proxy'/],
    [{ mode: 'fleet', url: 'http://h:1' }, /must start with redis:\/\/ or rediss:\/\//],
    [{ mode: 'fleet', url: 'not a url' }, /not a valid URL/],
    [{ mode: 'fleet', url: 'redis://h:1', sentinel: { sentinels: ['h:1'], name: 'm' }, client: {} }, /only one of/],
    [{ mode: 'fleet', cluster: { nodes: [] } }, /non-empty array/],
    [{ mode: 'fleet', cluster: { nodes: ['nohost'] } }, /not host:port/],
    [{ mode: 'fleet', sentinel: { sentinels: ['h:1'] } }, /sentinel.name/],
    [{ mode: 'fleet', url: 'redis://h:1', prefix: 'a{b}' }, /prefix/],
    [{ mode: 'fleet', client: { status: 'ready' } }, /ioredis Redis or Cluster instance/],
  ])('%j is refused with a clear error', (cfg, message) => {
    expect(() => resolveRedisConfig(cfg as never, none)).toThrow(ConfigError);
    expect(() => resolveRedisConfig(cfg as never, none)).toThrow(message);
  });

  it('bad numbers warn and take the default; updateCheckMillis is capped at a third of the lease', () => {
    const warnings: string[] = [];
    const r = resolveRedisConfig({ mode: 'fleet', url: 'redis://h:1', leaseMillis: -5, updateCheckMillis: 9000 }, (m) =>
      warnings.push(m),
    );
    expect(r.leaseMillis).toBe(10_000);
    expect(r.updateCheckMillis).toBe(3333);
    expect(warnings).toHaveLength(2);
  });

  it('cluster and sentinel addresses as strings or objects', () => {
    const c = resolveRedisConfig(
      { mode: 'fleet', cluster: { nodes: ['10.0.0.1:7000', { host: 'b', port: 7001 }], scaleReads: 'slave' } },
      none,
    );
    expect(c.cluster).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      scaleReads: 'slave',
    });
  });

  it('auth errors are recognised', () => {
    expect(isRedisAuthError(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toBe(true);
    expect(isRedisAuthError(new Error('NOAUTH Authentication required.'))).toBe(true);
    expect(isRedisAuthError(new Error('connect ECONNREFUSED'))).toBe(false);
  });
});

describe.skipIf(!redisAvailable())('connections', () => {
  afterAll(() => stopAllRedis());

  it('rediss:// with the server CA: TLS connection works; an existing client is used and left open', async () => {
    const r = await startRedis({ password: 'pw', tls: true });
    const log = capturingLogger();
    const cfg = resolveRedisConfig({ mode: 'fleet', url: r.url, tls: { ca: readFileSync(r.tls?.ca ?? '') } }, none);
    const conn = createRedisConnection(cfg, createLogger({ logger: log }), 'tls-test');
    await conn.ready(Date.now() + 10_000);
    expect(await conn.client.ping()).toBe('PONG');
    const adopted = createRedisConnection(
      resolveRedisConfig({ mode: 'fleet', client: conn.client }, none),
      createLogger({ logger: log }),
    );
    await adopted.ready(Date.now() + 1000);
    await adopted.close();
    expect(conn.client.status).toBe('ready'); // not ours to close
    await conn.close();
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a wrong password: ready() rejects at once with the auth error, logged once', async () => {
    const r = await startRedis({ password: 'pw' });
    const log = capturingLogger();
    const conn = createRedisConnection(
      resolveRedisConfig({ mode: 'fleet', url: r.url, password: 'nope' }, none),
      createLogger({ logger: log }),
    );
    await expect(conn.ready(Date.now() + 10_000)).rejects.toThrow(/WRONGPASS/);
    await conn.close();
    expect(log.count('error', /Redis rejected the credentials/)).toBe(1);
  });
});

describe('close() while Redis is still connecting', () => {
  it('ready() waiting for a connection rejects at once with a "closed" error; later calls too', async () => {
    // Nothing listens on this port: ioredis keeps reconnecting, ready() would wait for its deadline.
    const url = `redis://127.0.0.1:${await freePort()}`;
    const conn = createRedisConnection(
      resolveRedisConfig({ mode: 'fleet', url }, none),
      createLogger({ logger: capturingLogger() }),
    );
    const waiting = conn.ready(Date.now() + 600_000);
    waiting.catch(() => undefined);
    expect(await stateAfterThisTurn(waiting)).toBe('pending');
    await conn.close();
    expect(await stateAfterThisTurn(waiting)).toBe('rejected');
    await expect(waiting).rejects.toThrow(/Redis connection closed/);
    await expect(conn.ready(Date.now() + 600_000)).rejects.toThrow(/Redis connection closed/);
  });

  it.each(['fleet', 'evaluation-proxy'] as const)(
    "%s: a client's start() waiting on Redis rejects when the client is closed, not at startTimeoutMillis",
    async (mode) => {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const c = localClient({
        serverUrl: 'http://127.0.0.1:1',
        startTimeoutMillis: 600_000,
        redisConfig: { mode, url, directFallbackMillis: 0 },
        logger: capturingLogger(),
      });
      const started = c.start();
      started.catch(() => undefined);
      expect(await stateAfterThisTurn(started)).toBe('pending');
      await c.close();
      expect(await stateAfterThisTurn(started)).toBe('rejected');
      await expect(started).rejects.toThrow(/Redis connection closed/);
    },
  );
});

describe('redisConfig with other options', () => {
  it('cannot be combined with flagsFile or dataSource; streamUpdates is ignored with a warning', async () => {
    const { resolveLocalConfig } = await import('../../src/config/local');
    const redisConfig = { mode: 'fleet' as const, url: 'redis://127.0.0.1:1' };
    expect(() => resolveLocalConfig({ redisConfig, flagsFile: 'x.json' })).toThrow(
      /cannot be combined with flagsFile or dataSource/,
    );
    const log = capturingLogger();
    resolveLocalConfig({ redisConfig, streamUpdates: true, logger: log });
    expect(log.count('warn', /streamUpdates is ignored/)).toBe(1);
  });
});

describe('ioredis is optional', () => {
  it('a clear error names the package to install when it is missing', async () => {
    const { loadIoredis } = await import('../../src/redis/connection');
    expect(() => loadIoredis('ioredis-that-is-not-installed')).toThrow(/needs the "ioredis" package .*npm install ioredis/);
    expect(typeof loadIoredis().Redis).toBe('function');
  });
});
