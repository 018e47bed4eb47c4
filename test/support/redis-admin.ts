/**
 * Redis for SDK tests that need to write or inspect data: one redis-server
 * per file with an ioredis admin connection, emptied after each test, and
 * test-side connections that tolerate the server being stopped.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, onTestFinished } from 'vitest';
import { startRedis, stopAllRedis, type RedisProcess, type StartOptions } from './redis';

/** An ioredis connection for a test (its connection errors are expected when the test stops Redis); closed when the test finishes. */
export async function redisClient(url: string): Promise<Redis> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  onTestFinished(() => void c.disconnect());
  await c.connect();
  return c;
}

export interface UsedRedis {
  /** The server (started before the file's first test). */
  readonly server: RedisProcess;
  /** A connection to it, for writing fixtures and checking what the SDK wrote. */
  readonly admin: Redis;
}

/**
 * A redis-server for the whole file (call at file or describe level): started
 * before the first test, FLUSHALL after each (after the hooks that close the
 * test's clients), stopped with every other server the file started after the last.
 */
export function useRedis(options: StartOptions = {}): UsedRedis {
  let server: RedisProcess | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis(options);
    admin = new Redis(server.url, { lazyConnect: true });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  afterEach(async () => {
    await admin?.flushall();
  });
  afterAll(async () => {
    admin?.disconnect();
    await stopAllRedis();
  });
  const running = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useRedis: the server runs only during tests and hooks');
    return value;
  };
  return {
    get server() {
      return running(server);
    },
    get admin() {
      return running(admin);
    },
  };
}
