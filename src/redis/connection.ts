/**
 * The one Redis connection factory (fleet and evaluation-proxy modes).
 *
 * ioredis is an optional peer dependency, required here only when a client
 * configures `redisConfig`. Every connection reconnects forever with the
 * project's backoff helper, answers each command within
 * commandTimeoutMillis, and fails commands at once while disconnected (no
 * offline queue): callers run in the background and keep their last
 * snapshot, so waiting would only hide the outage. Connection errors are
 * logged once per outage (auth failures at error level), never thrown.
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { backoffDelay } from '../util/backoff';
import type { Logger } from '../util/logger';
import type { ResolvedRedisConfig } from './config';
import { errorMessage } from '../util/error-message';

export type RedisClient = Redis | Cluster;

/** Reconnect schedule for every Redis connection (through the one backoff helper). */
export const REDIS_RECONNECT_BACKOFF = Object.freeze({ minMillis: 100, maxMillis: 5_000, scalar: 2 });

type IoredisModule = {
  Redis: new (options: RedisOptions) => Redis;
  Cluster: new (nodes: Array<{ host: string; port: number }>, options: ClusterOptions) => Cluster;
};

let loaded: IoredisModule | undefined;

/** require('ioredis'), with a clear error when it is not installed (`moduleName` is for tests). */
export function loadIoredis(moduleName = 'ioredis'): IoredisModule {
  if (loaded && moduleName === 'ioredis') return loaded;
  let mod: IoredisModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer dependency, loaded only when redisConfig is used
    mod = require(moduleName) as IoredisModule;
  } catch (err) {
    const e = new Error('redisConfig needs the "ioredis" package (an optional peer dependency): run `npm install ioredis`', {
      cause: err,
    });
    e.name = 'RedisClientMissingError';
    throw e;
  }
  loaded = mod;
  return mod;
}

/** True for errors that retrying will not fix: wrong password, unknown user, missing ACL permission. */
export function isRedisAuthError(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return /\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username-password/i.test(m);
}

export interface RedisConnection {
  readonly client: RedisClient;
  /** A second connection for SUBSCRIBE (a subscribed connection can run no other command). */
  subscriber(): RedisClient;
  /** Resolves once the connection is ready; rejects at `deadline`, on an auth failure, or on close(). */
  ready(deadline: number): Promise<void>;
  /** The last connection error, cleared on ready. */
  readonly lastError: Error | undefined;
  /** Disconnect (a caller-provided client is left open; only our listeners are removed). */
  close(): Promise<void>;
}

function retry(times: number): number {
  return backoffDelay(REDIS_RECONNECT_BACKOFF, Math.max(0, times - 1));
}

function urlParts(url: string | undefined): {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  tls: boolean;
} {
  if (url === undefined) return { tls: false };
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || undefined,
    port: u.port ? Number(u.port) : undefined,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db !== undefined && Number.isInteger(db) ? db : undefined,
    tls: u.protocol === 'rediss:',
  };
}

function newClient(config: ResolvedRedisConfig, name: string): RedisClient {
  const io = loadIoredis();
  const fromUrl = urlParts(config.url);
  const tls = config.tls ?? (fromUrl.tls ? {} : undefined);
  const common: RedisOptions = {
    username: config.username ?? fromUrl.username,
    password: config.password ?? fromUrl.password,
    tls: tls,
    connectTimeout: config.connectTimeoutMillis,
    commandTimeout: config.commandTimeoutMillis,
    maxRetriesPerRequest: 0,
    connectionName: name,
    lazyConnect: true,
  };
  if (config.cluster) {
    return new io.Cluster(config.cluster.nodes, {
      scaleReads: config.cluster.scaleReads,
      clusterRetryStrategy: retry,
      enableOfflineQueue: false,
      lazyConnect: true,
      slotsRefreshTimeout: config.connectTimeoutMillis,
      redisOptions: common,
    });
  }
  const base: RedisOptions = { ...common, retryStrategy: retry, enableOfflineQueue: false, db: fromUrl.db };
  if (config.sentinel) {
    return new io.Redis({
      ...base,
      sentinels: config.sentinel.sentinels,
      name: config.sentinel.name,
      sentinelPassword: config.sentinel.sentinelPassword,
      sentinelRetryStrategy: retry,
      enableTLSForSentinelMode: tls !== undefined,
    });
  }
  return new io.Redis({ ...base, host: fromUrl.host ?? '127.0.0.1', port: fromUrl.port ?? 6379 });
}

/**
 * Open (or adopt, with `config.client`) a connection. `name` tells the
 * connections apart in logs and in CLIENT LIST.
 */
export function createRedisConnection(
  config: ResolvedRedisConfig,
  logger: Logger,
  name = 'amplitude-experiment',
): RedisConnection {
  const owned = config.client === undefined;
  const client = (config.client as RedisClient | undefined) ?? newClient(config, name);
  const extra: RedisClient[] = [];
  let lastError: Error | undefined;
  let inOutage = false;
  let authReported = false;
  let wasReady = false;
  const onError = (err: unknown): void => {
    lastError = err instanceof Error ? err : new Error(errorMessage(err));
    if (isRedisAuthError(err)) {
      if (!authReported) {
        authReported = true;
        logger.error(`Redis rejected the credentials (${lastError.message}): check redisConfig url/username/password`);
      }
      return;
    }
    outage(`Redis connection error (${lastError.message})`);
  };
  const outage = (what: string): void => {
    if (inOutage) return;
    inOutage = true;
    logger.warn(`${what}; reconnecting with backoff, the last flags keep serving`);
  };
  // A server that shuts down cleanly closes the socket without an error event.
  const onClose = (): void => {
    if (wasReady) outage('Redis connection lost');
    wasReady = false;
  };
  const onReady = (): void => {
    if (inOutage) logger.info('Redis connection is back');
    inOutage = false;
    wasReady = true;
    authReported = false;
    lastError = undefined;
  };
  const watch = (c: RedisClient): void => {
    c.on('error', onError);
    c.on('ready', onReady);
    c.on('close', onClose);
  };
  watch(client);
  if (owned) client.connect().catch(onError);
  let closed = false;
  /** ready() calls still waiting: close() settles them, so a start() waiting on Redis ends with it. */
  const waiting = new Set<(err: Error) => void>();
  const closedError = (): Error => new Error('Redis connection closed (the client was stopped or closed)');
  return {
    client,
    get lastError() {
      return lastError;
    },
    subscriber() {
      const sub = client.duplicate();
      // The duplicate's own errors are the same outage: count them, never let them go unhandled.
      sub.on('error', () => undefined);
      extra.push(sub);
      if (sub.status === 'wait') sub.connect().catch(() => undefined);
      return sub;
    },
    ready(deadline) {
      if (closed) return Promise.reject(closedError());
      if (client.status === 'ready') return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          clearTimeout(timer);
          waiting.delete(done);
          client.off('ready', onOk);
          client.off('error', onErr);
          if (err) reject(err);
          else resolve();
        };
        const onOk = (): void => done();
        const onErr = (err: unknown): void => {
          if (isRedisAuthError(err)) done(err as Error);
        };
        const timer = setTimeout(
          () => done(new Error(`Redis not ready within the start deadline${lastError ? ` (${lastError.message})` : ''}`)),
          Math.max(0, deadline - Date.now()),
        );
        timer.unref();
        client.on('ready', onOk);
        client.on('error', onErr);
        waiting.add(done);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const done of [...waiting]) done(closedError());
      for (const c of extra) c.disconnect();
      client.off('error', onError);
      client.off('ready', onReady);
      client.off('close', onClose);
      if (owned) {
        client.on('error', () => undefined);
        client.disconnect();
      }
    },
  };
}
