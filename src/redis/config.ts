/**
 * `redisConfig`: where a fleet's shared Redis is and how this process uses it.
 * Declared and validated here once; the connection factory (connection.ts)
 * and both modes ('fleet', 'evaluation-proxy') take the resolved form.
 * No type here comes from the Redis client library: it is an optional peer
 * dependency, and the public types must compile without it.
 */
import { ConfigError, numberOption } from '../config/common';

/** A Redis server address. Strings are `host:port`. */
export type RedisNodeAddress = string | { host: string; port: number };

/**
 * The parts of an ioredis `Redis` or `Cluster` instance this SDK calls
 * (structural, so the public types do not need ioredis installed).
 */
export interface RedisClientLike {
  readonly status: string;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  duplicate(): RedisClientLike;
  quit(): Promise<unknown>;
  disconnect(): void;
}

export interface RedisClusterConfig {
  /** Start nodes; the rest of the cluster is discovered. */
  nodes: RedisNodeAddress[];
  /** Read from replicas too ('slave' or 'all'); default 'master'. Writes always go to masters. */
  scaleReads?: 'master' | 'slave' | 'all';
}

export interface RedisSentinelConfig {
  /** Sentinel addresses. */
  sentinels: RedisNodeAddress[];
  /** The monitored master's name (`sentinel monitor <name> ...`). */
  name: string;
  /** Password of the sentinels themselves, when they have one (`requirepass` in sentinel.conf). */
  sentinelPassword?: string;
}

export type RedisMode = 'evaluation-proxy' | 'fleet';

export interface RedisConfig {
  /** 'fleet': processes elect one writer that fetches from Amplitude and publishes; 'evaluation-proxy': read what Amplitude's evaluation-proxy writes. */
  mode: RedisMode;
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS). With `cluster` or `sentinel` it only
   * supplies credentials and TLS; with `client` it is ignored.
   */
  url?: string;
  /** Key prefix. Default 'amplitude' (the evaluation-proxy's default; fleet keys live under `{prefix}:fleet:`). */
  prefix?: string;
  /** Redis Cluster: start nodes and replica reads. */
  cluster?: RedisClusterConfig;
  /** Redis Sentinel: sentinels and the master name. */
  sentinel?: RedisSentinelConfig;
  /** An existing ioredis `Redis` or `Cluster` instance: used as given, never closed by the SDK. */
  client?: RedisClientLike;
  /** Override the URL's user name / password. */
  username?: string;
  password?: string;
  /** TLS options (node:tls, e.g. `{ ca }`), or true. Implied by `rediss://`. */
  tls?: boolean | Record<string, unknown>;
  /** Connect timeout per attempt. Default 5000. */
  connectTimeoutMillis?: number;
  /** Every command fails after this long without an answer (the last snapshot keeps serving). Default 5000. */
  commandTimeoutMillis?: number;
  /** fleet: writer lease duration; renewed every third of it. Default 10000 (min 1000). */
  leaseMillis?: number;
  /** fleet: how often readers check the published version (and writers try for the lease). Default 1000 (min 50). */
  updateCheckMillis?: number;
  /**
   * fleet: when Redis has been unreachable this long, the process fetches from Amplitude itself (as without
   * fleet mode) until Redis is back. At start, the fallback happens as soon as Redis fails or after this long
   * (capped by startTimeoutMillis / 2). Default 10000. 0 disables fetching past Redis (only last snapshots).
   */
  directFallbackMillis?: number;
  /** fleet: also wake readers with pub/sub on each publish (the version check stays as the safety net). Default true. */
  pubsub?: boolean;
}

export interface ResolvedRedisConfig {
  mode: RedisMode;
  url: string | undefined;
  prefix: string;
  cluster: { nodes: Array<{ host: string; port: number }>; scaleReads: 'master' | 'slave' | 'all' } | undefined;
  sentinel: { sentinels: Array<{ host: string; port: number }>; name: string; sentinelPassword: string | undefined } | undefined;
  client: RedisClientLike | undefined;
  username: string | undefined;
  password: string | undefined;
  tls: Record<string, unknown> | undefined;
  connectTimeoutMillis: number;
  commandTimeoutMillis: number;
  leaseMillis: number;
  updateCheckMillis: number;
  directFallbackMillis: number;
  pubsub: boolean;
}

export const RedisConfigDefaults = Object.freeze({
  prefix: 'amplitude',
  connectTimeoutMillis: 5_000,
  commandTimeoutMillis: 5_000,
  leaseMillis: 10_000,
  updateCheckMillis: 1_000,
  directFallbackMillis: 10_000,
});

function parseAddress(name: string, a: RedisNodeAddress): { host: string; port: number } {
  if (typeof a === 'object' && a !== null && typeof a.host === 'string' && Number.isInteger(a.port))
    return { host: a.host, port: a.port };
  if (typeof a === 'string') {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(a.trim());
    if (m) return { host: m[1], port: Number(m[2]) };
  }
  throw new ConfigError(`redisConfig.${name}: "${String(a)}" is not host:port or { host, port }`);
}

function addresses(name: string, list: unknown): Array<{ host: string; port: number }> {
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigError(`redisConfig.${name} must be a non-empty array of host:port`);
  return list.map((a: RedisNodeAddress) => parseAddress(name, a));
}

/** Validate once, at construction. Throws ConfigError for what cannot be defaulted; warns and defaults the rest. */
export function resolveRedisConfig(c: RedisConfig, warn: (message: string) => void): ResolvedRedisConfig {
  if (typeof c !== 'object' || c === null) throw new ConfigError('redisConfig must be an object');
  if (c.mode !== 'fleet' && c.mode !== 'evaluation-proxy') {
    throw new ConfigError(`redisConfig.mode must be 'fleet' or 'evaluation-proxy'; got ${JSON.stringify(c.mode)}`);
  }
  const given = [c.url !== undefined && !c.cluster && !c.sentinel, c.cluster, c.sentinel, c.client].filter(Boolean).length;
  if (c.client === undefined && c.url === undefined && !c.cluster && !c.sentinel) {
    throw new ConfigError('redisConfig needs url, cluster, sentinel or client');
  }
  if (given > 1) throw new ConfigError('redisConfig: give only one of url (alone), cluster, sentinel or client');
  if (c.url !== undefined) {
    let u: URL;
    try {
      u = new URL(String(c.url));
    } catch {
      throw new ConfigError('redisConfig.url is not a valid URL (expected redis://host:port or rediss://host:port)');
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
      throw new ConfigError(`redisConfig.url must start with redis:// or rediss://; got ${u.protocol}//`);
    }
  }
  if (c.client !== undefined && (typeof c.client !== 'object' || c.client === null || typeof c.client.duplicate !== 'function')) {
    throw new ConfigError('redisConfig.client must be an ioredis Redis or Cluster instance');
  }
  const prefix = c.prefix ?? RedisConfigDefaults.prefix;
  if (typeof prefix !== 'string' || prefix === '' || /[\s{}]/.test(prefix)) {
    throw new ConfigError('redisConfig.prefix must be a non-empty string without spaces or braces');
  }
  let cluster: ResolvedRedisConfig['cluster'];
  if (c.cluster) {
    const scaleReads = c.cluster.scaleReads ?? 'master';
    if (!['master', 'slave', 'all'].includes(scaleReads))
      throw new ConfigError("redisConfig.cluster.scaleReads must be 'master', 'slave' or 'all'");
    cluster = { nodes: addresses('cluster.nodes', c.cluster.nodes), scaleReads };
  }
  let sentinel: ResolvedRedisConfig['sentinel'];
  if (c.sentinel) {
    if (typeof c.sentinel.name !== 'string' || !c.sentinel.name)
      throw new ConfigError('redisConfig.sentinel.name (the master name) is required');
    sentinel = {
      sentinels: addresses('sentinel.sentinels', c.sentinel.sentinels),
      name: c.sentinel.name,
      sentinelPassword: c.sentinel.sentinelPassword,
    };
  }
  const tls = c.tls === true ? {} : typeof c.tls === 'object' && c.tls !== null ? c.tls : undefined;
  const num = (name: Exclude<keyof typeof RedisConfigDefaults, 'prefix'>, min: number): number =>
    numberOption(`redisConfig.${name}`, c[name], RedisConfigDefaults[name], min, warn);
  const leaseMillis = num('leaseMillis', 1000);
  let updateCheckMillis = num('updateCheckMillis', 50);
  if (updateCheckMillis > leaseMillis / 3) {
    warn(
      `redisConfig.updateCheckMillis ${updateCheckMillis} is above a third of leaseMillis; using ${Math.floor(leaseMillis / 3)}`,
    );
    updateCheckMillis = Math.floor(leaseMillis / 3);
  }
  return {
    mode: c.mode,
    url: c.url,
    prefix,
    cluster,
    sentinel,
    client: c.client,
    username: c.username,
    password: c.password,
    tls,
    connectTimeoutMillis: num('connectTimeoutMillis', 1),
    commandTimeoutMillis: num('commandTimeoutMillis', 1),
    leaseMillis,
    updateCheckMillis,
    directFallbackMillis: num('directFallbackMillis', 0),
    pubsub: c.pubsub !== false,
  };
}
