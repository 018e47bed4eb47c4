/**
 * Every configuration option of both clients, declared once: its type,
 * default, bounds, deprecation and which clients take it. resolveLocalConfig
 * and resolveRemoteConfig, the exported *Defaults objects and
 * docs/configuration.md's table all come from these rows.
 *
 * Adding an option: one row here and its field (with a doc comment) in
 * LocalEvaluationConfig and/or RemoteEvaluationConfig; the compiler refuses
 * a row without a field or a field without a row. See /docs/configuration.md.
 */
import type { Dispatcher } from 'undici';
import { LogLevel } from '../util/logger';
import type { CustomRow, OptionContext, OptionRow } from './option-table';
import { describeValue } from './option-table';
import type { RedisConfig } from '../redis/config';
import { lazy } from '../util/lazy';

// Loaded when a client is given redisConfig.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal require, loaded lazily, visible to bundlers and file tracers
const loadRedisConfig = lazy(() => require('../redis/config') as typeof import('../redis/config'));

function isDispatcher(value: unknown): value is Dispatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { dispatch?: unknown }).dispatch === 'function' &&
    typeof (value as { request?: unknown }).request === 'function'
  );
}

/** A row for an option whose value is an object checked by `ok` (a bad one throws: no default could stand in). */
export function objectWith<C extends CustomRow['clients']>(
  clients: C,
  describe: string,
  ok: (v: unknown) => boolean,
): CustomRow & { clients: C } {
  return {
    type: 'custom',
    clients,
    describe,
    check: (value: unknown, ctx: OptionContext) =>
      ok(value) ? value : ctx.fail(`config.${ctx.path} must be ${describe}; got ${describeValue(value)}`),
  };
}

const ANALYTICS_API_KEY = { type: 'string', clients: 'local', required: true } as const;

export const OPTIONS = {
  // Logging: read first (by createLogger), so that every other mistake can be reported.
  debug: { type: 'boolean', clients: 'both', default: false },
  logLevel: { type: 'custom', clients: 'both', describe: 'a LogLevel', default: LogLevel.Error },
  loggerProvider: { type: 'custom', clients: 'both', describe: 'a logger (debug, info, warn, error)', default: console },
  logger: { type: 'custom', clients: 'both', describe: 'a logger that keeps its own level (console, pino, winston)' },

  instanceName: { type: 'string', clients: 'both' },
  serverZone: { type: 'enum', clients: 'both', values: ['us', 'eu'], default: 'us' },
  serverUrl: { type: 'url', clients: 'both', zoneDefault: { local: 'flags', remote: 'remote' } },
  httpAgent: {
    type: 'custom',
    clients: 'both',
    describe: 'an http(s).Agent (used for https requests)',
    default: null,
    check: (value: unknown, ctx: OptionContext) => {
      if (typeof value === 'object') return value;
      ctx.warn(`config.${ctx.path} must be an http(s).Agent; got ${describeValue(value)}, ignoring it`);
      return null;
    },
  },
  dispatcher: objectWith('both', 'an undici Dispatcher (Agent, Pool, ProxyAgent, MockAgent)', isDispatcher),
  // Absent: decided at resolve time from NODE_USE_ENV_PROXY (resolveTransport in ./transport).
  proxyFromEnv: {
    type: 'custom',
    clients: 'both',
    describe: 'true or false',
    check: (value: unknown, ctx: OptionContext) => {
      if (typeof value === 'boolean') return value;
      ctx.warn(`config.${ctx.path} must be true or false; got ${describeValue(value)}, using false`);
      return false;
    },
  },

  // Remote evaluation.
  fetchTimeoutMillis: { type: 'number', clients: 'remote', default: 10_000, min: 0 },
  fetchRetries: { type: 'number', clients: 'remote', default: 0, min: 0, integer: true },
  fetchRetryBackoffMinMillis: { type: 'number', clients: 'remote', default: 500, min: 0 },
  fetchRetryBackoffMaxMillis: { type: 'number', clients: 'remote', default: 10_000, min: 0 },
  fetchRetryBackoffScalar: { type: 'number', clients: 'remote', default: 1.5, min: 1 },
  fetchRetryTimeoutMillis: { type: 'number', clients: 'remote', default: 10_000, min: 0 },
  connectionPoolMaxSize: {
    type: 'custom',
    clients: 'remote',
    describe: 'an integer >= 1 (default: no limit)',
    check: (value: unknown, ctx: OptionContext) => {
      if (typeof value === 'number' && Number.isFinite(value) && value >= 1) return Math.floor(value);
      ctx.warn(`config.${ctx.path} must be a number >= 1; got ${describeValue(value)}, using no limit`);
      return undefined;
    },
  },

  // Local evaluation.
  bootstrap: objectWith(
    'local',
    'flag configs: an array, a record keyed by flag key, or a JSON string',
    (v) => typeof v === 'string' || typeof v === 'object',
  ),
  flagConfigPollingIntervalMillis: { type: 'number', clients: 'local', default: 30_000, min: 1_000, clamp: true },
  flagConfigPollerRequestTimeoutMillis: { type: 'number', clients: 'local', default: 10_000, min: 1 },
  startTimeoutMillis: { type: 'number', clients: 'local', default: 20_000, min: 1 },
  streamUpdates: { type: 'boolean', clients: 'local', default: false },
  streamServerUrl: { type: 'url', clients: 'local', zoneDefault: 'stream' },
  streamFlagConnTimeoutMillis: { type: 'number', clients: 'local', default: 1_500, min: 1 },
  assignmentConfig: {
    type: 'object',
    clients: 'local',
    open: true,
    deprecated: 'use exposureConfig',
    fields: {
      apiKey: ANALYTICS_API_KEY,
      cacheCapacity: { type: 'number', clients: 'local', default: 65_536, min: 1, integer: true },
      sendEvaluatedProps: { type: 'boolean', clients: 'local', default: false },
    },
  },
  exposureConfig: {
    type: 'object',
    clients: 'local',
    open: true,
    fields: {
      apiKey: ANALYTICS_API_KEY,
      cacheCapacity: { type: 'number', clients: 'local', default: 65_536, min: 1, integer: true },
    },
  },
  cohortSyncConfig: {
    type: 'object',
    clients: 'local',
    fields: {
      apiKey: { type: 'string', clients: 'local', required: true },
      secretKey: { type: 'string', clients: 'local', required: true },
      maxCohortSize: { type: 'number', clients: 'local', default: 2_147_483_647, min: 0, integer: true },
      // The official SDK's floor: cohorts change slowly and downloads are large.
      cohortPollingIntervalMillis: { type: 'number', clients: 'local', default: 60_000, min: 60_000, clamp: true },
      cohortServerUrl: { type: 'url', clients: 'local', zoneDefault: 'cohort' },
    },
  },
  evaluationProxyConfig: {
    type: 'object',
    clients: 'local',
    fields: {
      // Validated as an http(s) URL by resolveLocalConfig (it has no zone default).
      proxyUrl: { type: 'string', clients: 'local', required: true },
      // The JVM SDK's EvaluationProxyConfig defaults.
      cohortCacheCapacity: { type: 'number', clients: 'local', default: 1_000_000, min: 1, integer: true },
      cohortCacheTtlMillis: { type: 'number', clients: 'local', default: 60_000, min: 1 },
    },
  },
  redisConfig: {
    type: 'custom',
    clients: 'local',
    describe: "Redis for mode 'fleet' or 'evaluation-proxy' (url, cluster, sentinel or client; docs/fleet.md)",
    // src/redis/config.ts validates every field (shapes of cluster, sentinel, client; bounds of the timings).
    check: (value, ctx) => loadRedisConfig().resolveRedisConfig(value as RedisConfig, (m) => ctx.warn(m)),
  },
  hooks: {
    ...objectWith('local', 'an array of hooks', Array.isArray),
    default: [],
  },
  flagsFile: objectWith('local', 'a file path', (v) => typeof v === 'string' && v !== ''),
  flagsFilePollIntervalMillis: { type: 'number', clients: 'local', default: 1_000, min: 10 },
  dataSource: objectWith(
    'local',
    'an object with a subscribe(listener) method (for example a TestData)',
    (v) => typeof v === 'object' && v !== null && typeof (v as { subscribe?: unknown }).subscribe === 'function',
  ),
  metrics: objectWith(
    'local',
    'an object of metric callbacks (onEvaluation, onFlagConfigFetchFailure, ...)',
    (v) => typeof v === 'object' && v !== null,
  ),
  persistence: {
    type: 'object',
    clients: 'local',
    fields: {
      path: { type: 'string', clients: 'local', required: true },
      startFallbackMillis: { type: 'number', clients: 'local', default: 5_000, min: 0 },
    },
  },
} as const satisfies Readonly<Record<string, OptionRow>>;

export type OptionName = keyof typeof OPTIONS;

/** Consumed by createLogger (after the table checked their types), not part of a resolved config. */
export const LOGGING_OPTIONS: ReadonlySet<OptionName> = new Set(['debug', 'logLevel', 'loggerProvider', 'logger']);

/** Options a client takes, by the table's `clients` column. */
export type OptionsFor<C extends 'local' | 'remote'> = {
  [K in OptionName]: (typeof OPTIONS)[K]['clients'] extends C | 'both' ? K : never;
}[OptionName];

/**
 * Compile-time check that a config interface and the table agree: `true`
 * only when every field has a row for that client and every such row has a
 * field. Used as `const x: TableMatches<...> = true`.
 */
export type TableMatches<C extends 'local' | 'remote', Fields> = [OptionsFor<C>] extends [keyof Fields]
  ? [keyof Fields] extends [OptionsFor<C>]
    ? true
    : { fieldsWithoutARow: Exclude<keyof Fields, OptionsFor<C>> }
  : { rowsWithoutAField: Exclude<OptionsFor<C>, keyof Fields> };
