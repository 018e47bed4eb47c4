/**
 * Local evaluation config: every LocalEvaluationConfig option of
 * @amplitude/experiment-node-server plus the Python SDK's documented ones.
 * The types live here; defaults, bounds and validation come from the one
 * option table (./options.ts). Resolved once, at construction.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';
import type { FlagConfig } from '../types';
import type { EvaluationHook } from '../local/hooks';
import type { FlagDataSource } from '../local/data-source';
import type { LocalEvaluationMetrics } from '../metrics';
import type { LogLevel, Logger, LoggerProvider } from '../util/logger';
import { ConfigError, normalizeServerZone, type ServerZone, type ServerZoneInput } from './common';
import { defaultsOf, urlOption } from './option-table';
import { OPTIONS, type TableMatches } from './options';
import { resolveClientOptions } from './resolve-client';
import { resolveTransport } from './transport';
import type { RedisConfig, ResolvedRedisConfig } from '../redis/config';

/** Deprecated assignment tracking (official SDK); `apiKey` is the analytics project key. */
export interface AssignmentConfig {
  apiKey: string;
  cacheCapacity?: number;
  /** Python SDK option: copy the user's fields and user_properties onto assignment events. Default false. */
  sendEvaluatedProps?: boolean;
  [analyticsNodeOption: string]: unknown;
}

/** Exposure tracking; `apiKey` is the analytics project key, not the deployment key. */
export interface ExposureConfig {
  apiKey: string;
  cacheCapacity?: number;
  [analyticsNodeOption: string]: unknown;
}

/** Cohort download for cohort targeting. */
export interface CohortSyncConfig {
  apiKey: string;
  secretKey: string;
  maxCohortSize?: number;
  cohortPollingIntervalMillis?: number;
  cohortServerUrl?: string;
}

/**
 * Amplitude's evaluation-proxy over HTTP (the JVM SDK's option): flags and cohorts from the proxy (Amplitude when
 * it fails), and per-user cohort memberships for cohorts not held in memory. docs/evaluation-proxy.md
 */
export interface EvaluationProxyConfig {
  /** The proxy's base URL, e.g. http://evaluation-proxy:3546. */
  proxyUrl: string;
  /** Users (or groups) whose memberships are cached, per group type. Default 1,000,000. */
  cohortCacheCapacity?: number;
  /** How long a cached membership answer is used. Default 60,000 ms. */
  cohortCacheTtlMillis?: number;
}

/** Bootstrap flags: the official SDK's record keyed by flag key, an array, or a payload string. */
export type FlagBootstrap = Record<string, FlagConfig> | FlagConfig[] | string;

export interface LocalEvaluationConfig {
  /** true: log at Debug (ignored when a custom `logger` is given). */
  debug?: boolean;
  logLevel?: LogLevel;
  loggerProvider?: LoggerProvider;
  /** Python SDK style logger (console, pino, winston...): keeps its own level. */
  logger?: LoggerProvider;
  /** Keys the singleton in Experiment.initializeLocal: `${apiKey}-${instanceName}`. */
  instanceName?: string;
  serverZone?: ServerZoneInput;
  /** Flag configs host. Default https://api.lab.amplitude.com (EU https://flag.lab.eu.amplitude.com). */
  serverUrl?: string;
  /** Flags to evaluate before (or without) the first fetch. */
  bootstrap?: FlagBootstrap;
  /** Default 30000. */
  flagConfigPollingIntervalMillis?: number;
  /** Python SDK option: timeout of each flag request. Default 10000. */
  flagConfigPollerRequestTimeoutMillis?: number;
  /** How long start() waits for flags (and their cohorts) before rejecting. Default 20000. */
  startTimeoutMillis?: number;
  streamUpdates?: boolean;
  streamServerUrl?: string;
  streamFlagConnTimeoutMillis?: number;
  /**
   * Accepted for compatibility with the official SDK (a Node https.Agent). This SDK uses undici: the agent
   * itself is not used, but its TLS options and maxSockets are. Prefer `dispatcher`.
   */
  httpAgent?: HttpAgent | null;
  /** An undici Dispatcher (Agent, Pool, ProxyAgent, MockAgent). Not closed by the client. */
  dispatcher?: Dispatcher;
  /** @deprecated use exposureConfig */
  assignmentConfig?: AssignmentConfig;
  exposureConfig?: ExposureConfig;
  cohortSyncConfig?: CohortSyncConfig;
  /** Flags, cohorts and cohort memberships from Amplitude's evaluation-proxy over HTTP: docs/evaluation-proxy.md. */
  evaluationProxyConfig?: EvaluationProxyConfig;
  /** Before/after evaluation callbacks (metrics, tracing): docs/hooks.md. More with client.addHook(). */
  hooks?: readonly EvaluationHook[];
  /**
   * Serve flags from this JSON file (an array of v2 flag configs, as GET /sdk/v2/flags returns) instead of
   * fetching them; reloaded when the file changes (a bad file is logged and the last good flags stay).
   */
  flagsFile?: string;
  /** How often the flags file is checked when fs.watch misses a change (network disks, some editors). Default 1000. */
  flagsFilePollIntervalMillis?: number;
  /** An in-process flag source instead of Amplitude, such as TestData: docs/test-data.md. */
  dataSource?: FlagDataSource;
  /**
   * Last-known-good: write each flag payload accepted from Amplitude to `path` (atomically), and start from that
   * file when Amplitude cannot be reached at start(): docs/persistence.md.
   */
  persistence?: PersistenceConfig;
  /**
   * Share flags and cohorts through Redis: mode 'fleet' (one elected writer, docs/fleet.md) or 'evaluation-proxy'
   * (read what Amplitude's evaluation-proxy writes, docs/evaluation-proxy.md).
   */
  redisConfig?: RedisConfig;
  /** Callbacks counting evaluations, fetches, failures, cohort downloads, tracked events, installs: docs/observability.md. */
  metrics?: LocalEvaluationMetrics;
  /**
   * Send requests (flags, stream, cohorts, tracked events) through the proxy named by HTTP_PROXY / HTTPS_PROXY,
   * except for hosts in NO_PROXY. Default: on when NODE_USE_ENV_PROXY=1 (Node's own switch), else off. Ignored
   * when `dispatcher` is given. docs/observability.md
   */
  proxyFromEnv?: boolean;
}

/** Where the last-known-good flag payload is kept. */
export interface PersistenceConfig {
  /** The file to write (temp file + rename, so a crash never leaves half a file). */
  path: string;
  /**
   * start() serves the persisted flags when Amplitude has not answered within this many milliseconds (or failed
   * before). Default 5000 (capped at startTimeoutMillis).
   */
  startFallbackMillis?: number;
}

// Every field above has a row in the option table, and every local row a field above.
const localFieldsMatchTable: TableMatches<'local', LocalEvaluationConfig> = true;
void localFieldsMatchTable;

/** The official SDK's LocalEvaluationDefaults keys (bootstrap, loggerProvider and httpAgent as this SDK's). */
export const LocalEvaluationDefaults = Object.freeze(
  defaultsOf(OPTIONS, 'local', [
    'debug',
    'logLevel',
    'serverZone',
    'serverUrl',
    'bootstrap',
    'flagConfigPollingIntervalMillis',
    'flagConfigPollerRequestTimeoutMillis',
    'startTimeoutMillis',
    'streamUpdates',
    'streamServerUrl',
    'streamFlagConnTimeoutMillis',
  ] as const),
) as Readonly<{
  debug: boolean;
  logLevel: LogLevel;
  serverZone: string;
  serverUrl: string;
  bootstrap: FlagBootstrap | undefined;
  flagConfigPollingIntervalMillis: number;
  flagConfigPollerRequestTimeoutMillis: number;
  startTimeoutMillis: number;
  streamUpdates: boolean;
  streamServerUrl: string;
  streamFlagConnTimeoutMillis: number;
}>;

export const CohortSyncConfigDefaults = Object.freeze(
  defaultsOf(OPTIONS.cohortSyncConfig.fields, 'local', [
    'cohortServerUrl',
    'maxCohortSize',
    'cohortPollingIntervalMillis',
  ] as const),
) as Readonly<{ cohortServerUrl: string; maxCohortSize: number; cohortPollingIntervalMillis: number }>;

export const EvaluationProxyConfigDefaults = Object.freeze(
  defaultsOf(OPTIONS.evaluationProxyConfig.fields, 'local', ['cohortCacheCapacity', 'cohortCacheTtlMillis'] as const),
) as Readonly<{ cohortCacheCapacity: number; cohortCacheTtlMillis: number }>;

export const ExposureConfigDefaults = Object.freeze(
  defaultsOf(OPTIONS.exposureConfig.fields, 'local', ['cacheCapacity'] as const),
) as Readonly<{ cacheCapacity: number }>;

/** @deprecated use ExposureConfigDefaults */
export const AssignmentConfigDefaults = Object.freeze(
  defaultsOf(OPTIONS.assignmentConfig.fields, 'local', ['cacheCapacity'] as const),
) as Readonly<{ cacheCapacity: number }>;

/** The resolved config the client runs on. */
export interface ResolvedLocalConfig {
  logger: Logger;
  instanceName: string | undefined;
  serverZone: ServerZone;
  serverUrl: string;
  bootstrap: FlagBootstrap | undefined;
  flagConfigPollingIntervalMillis: number;
  flagConfigPollerRequestTimeoutMillis: number;
  startTimeoutMillis: number;
  streamUpdates: boolean;
  streamServerUrl: string;
  streamFlagConnTimeoutMillis: number;
  /** The caller's undici dispatcher, used as is. */
  dispatcher: Dispatcher | undefined;
  /** The caller's http(s).Agent, for https requests (not with a dispatcher). */
  httpAgent: HttpAgent | undefined;
  exposureConfig: ExposureConfig | undefined;
  assignmentConfig: AssignmentConfig | undefined;
  cohortSyncConfig: Required<CohortSyncConfig> | undefined;
  evaluationProxyConfig: Required<EvaluationProxyConfig> | undefined;
  hooks: readonly EvaluationHook[];
  flagsFile: string | undefined;
  flagsFilePollIntervalMillis: number;
  dataSource: FlagDataSource | undefined;
  persistence: Required<PersistenceConfig> | undefined;
  redisConfig: ResolvedRedisConfig | undefined;
  metrics: LocalEvaluationMetrics | undefined;
  proxyFromEnv: boolean;
}

/**
 * Validate a user config against the option table. Throws ConfigError for
 * what the client cannot run with (a malformed URL, a missing key, a wrong
 * object, contradicting options); for other mistakes (wrong type, out of
 * bounds, unknown option or zone) logs a warning at every log level but
 * Disable and uses the default.
 */
export function resolveLocalConfig(config: LocalEvaluationConfig | undefined | null): ResolvedLocalConfig {
  const { resolved: r, logger, mistake } = resolveClientOptions(config, 'local');
  if (r.flagsFile !== undefined && r.dataSource !== undefined) {
    throw new ConfigError('config.flagsFile and config.dataSource cannot both be set', 'dataSource');
  }
  const redisConfig = r.redisConfig as ResolvedRedisConfig | undefined;
  if (redisConfig !== undefined && (r.flagsFile !== undefined || r.dataSource !== undefined)) {
    throw new ConfigError('config.redisConfig cannot be combined with flagsFile or dataSource (they are other flag sources)');
  }
  if (redisConfig?.mode === 'fleet' && r.streamUpdates === true) {
    mistake("config.streamUpdates is ignored with redisConfig mode 'fleet': the fleet's writer polls, readers follow Redis");
  }
  if (redisConfig?.mode === 'evaluation-proxy' && r.streamUpdates === true) {
    mistake("config.streamUpdates is ignored with redisConfig mode 'evaluation-proxy': flags are read from the proxy's Redis");
  }
  let evaluationProxyConfig = r.evaluationProxyConfig as Required<EvaluationProxyConfig> | undefined;
  if (evaluationProxyConfig) {
    evaluationProxyConfig = {
      ...evaluationProxyConfig,
      proxyUrl: urlOption('evaluationProxyConfig.proxyUrl', evaluationProxyConfig.proxyUrl, ''),
    };
  }
  const transport = resolveTransport(
    r.dispatcher as Dispatcher | undefined,
    r.httpAgent as HttpAgent | null,
    r.proxyFromEnv,
    mistake,
  );
  const startTimeoutMillis = r.startTimeoutMillis as number;
  let persistence = r.persistence as Required<PersistenceConfig> | undefined;
  // Falling back later than start() gives up would never happen.
  if (persistence && persistence.startFallbackMillis > startTimeoutMillis) {
    persistence = { ...persistence, startFallbackMillis: startTimeoutMillis };
  }
  return {
    logger,
    instanceName: r.instanceName as string | undefined,
    serverZone: normalizeServerZone(r.serverZone),
    serverUrl: r.serverUrl as string,
    bootstrap: r.bootstrap as FlagBootstrap | undefined,
    flagConfigPollingIntervalMillis: r.flagConfigPollingIntervalMillis as number,
    flagConfigPollerRequestTimeoutMillis: r.flagConfigPollerRequestTimeoutMillis as number,
    startTimeoutMillis,
    streamUpdates: r.streamUpdates as boolean,
    streamServerUrl: r.streamServerUrl as string,
    streamFlagConnTimeoutMillis: r.streamFlagConnTimeoutMillis as number,
    ...transport,
    exposureConfig: r.exposureConfig as ExposureConfig | undefined,
    assignmentConfig: r.assignmentConfig as AssignmentConfig | undefined,
    cohortSyncConfig: r.cohortSyncConfig as Required<CohortSyncConfig> | undefined,
    evaluationProxyConfig,
    hooks: r.hooks as readonly EvaluationHook[],
    flagsFile: r.flagsFile as string | undefined,
    flagsFilePollIntervalMillis: r.flagsFilePollIntervalMillis as number,
    dataSource: r.dataSource as FlagDataSource | undefined,
    persistence,
    redisConfig,
    metrics: r.metrics as LocalEvaluationMetrics | undefined,
  };
}
