/**
 * Local evaluation config: every LocalEvaluationConfig option of
 * @amplitude/experiment-node-server plus the Python SDK's documented ones.
 * Resolved and validated once, at construction; the defaults live here only.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';
import type { FlagConfig } from '../types';
import type { EvaluationHook } from '../local/hooks';
import type { FlagDataSource } from '../local/data-source';
import type { LocalEvaluationMetrics } from '../metrics';
import { createLogger, LogLevel, type Logger, type LoggerProvider } from '../util/logger';
import {
  ConfigError,
  normalizeServerZone,
  numberOption,
  proxyFromEnvOption,
  serverUrlsFor,
  ServerZone,
  type ServerZoneInput,
  urlOption,
} from './common';

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
  /** Accepted for compatibility (a Node https.Agent); this SDK uses undici: prefer `dispatcher`. */
  httpAgent?: HttpAgent | null;
  /** An undici Dispatcher (Agent, Pool, ProxyAgent, MockAgent). Not closed by the client. */
  dispatcher?: Dispatcher;
  /** @deprecated use exposureConfig */
  assignmentConfig?: AssignmentConfig;
  exposureConfig?: ExposureConfig;
  cohortSyncConfig?: CohortSyncConfig;
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

export const LocalEvaluationDefaults = Object.freeze({
  debug: false,
  logLevel: LogLevel.Error,
  serverZone: 'us',
  serverUrl: 'https://api.lab.amplitude.com',
  bootstrap: undefined as FlagBootstrap | undefined,
  flagConfigPollingIntervalMillis: 30_000,
  flagConfigPollerRequestTimeoutMillis: 10_000,
  startTimeoutMillis: 20_000,
  streamUpdates: false,
  streamServerUrl: 'https://stream.lab.amplitude.com',
  streamFlagConnTimeoutMillis: 1_500,
});

export const CohortSyncConfigDefaults = Object.freeze({
  cohortServerUrl: 'https://cohort-v2.lab.amplitude.com',
  maxCohortSize: 2_147_483_647,
  cohortPollingIntervalMillis: 60_000,
});

export const ExposureConfigDefaults = Object.freeze({ cacheCapacity: 65_536 });
export const AssignmentConfigDefaults = Object.freeze({ cacheCapacity: 65_536 });

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
  dispatcher: Dispatcher | undefined;
  exposureConfig: ExposureConfig | undefined;
  assignmentConfig: AssignmentConfig | undefined;
  cohortSyncConfig: Required<CohortSyncConfig> | undefined;
  hooks: readonly EvaluationHook[];
  flagsFile: string | undefined;
  flagsFilePollIntervalMillis: number;
  dataSource: FlagDataSource | undefined;
  persistence: PersistenceConfig | undefined;
  metrics: LocalEvaluationMetrics | undefined;
  proxyFromEnv: boolean;
}

const KNOWN_OPTIONS = new Set([
  'debug', 'logLevel', 'loggerProvider', 'logger', 'instanceName', 'serverZone', 'serverUrl', 'bootstrap',
  'flagConfigPollingIntervalMillis', 'flagConfigPollerRequestTimeoutMillis', 'startTimeoutMillis', 'streamUpdates',
  'streamServerUrl', 'streamFlagConnTimeoutMillis', 'httpAgent', 'dispatcher', 'assignmentConfig',
  'exposureConfig', 'cohortSyncConfig', 'hooks', 'flagsFile', 'flagsFilePollIntervalMillis', 'dataSource',
  'persistence', 'metrics', 'proxyFromEnv',
]);

export function resolveLocalConfig(config: LocalEvaluationConfig | undefined): ResolvedLocalConfig {
  const c: LocalEvaluationConfig = config ?? {};
  if (typeof c !== 'object') throw new ConfigError('config must be an object');
  const logger = createLogger(c);
  const warn = (m: string) => logger.warn(m);
  for (const key of Object.keys(c)) {
    if (!KNOWN_OPTIONS.has(key)) warn(`unknown config option "${key}" is ignored`);
  }
  const zone = normalizeServerZone(c.serverZone ?? LocalEvaluationDefaults.serverZone);
  const urls = serverUrlsFor(zone);
  if (c.httpAgent) warn('config.httpAgent is not used (this SDK uses undici); pass an undici `dispatcher` instead');

  let cohortSyncConfig: Required<CohortSyncConfig> | undefined;
  if (c.cohortSyncConfig) {
    const s = c.cohortSyncConfig;
    if (typeof s.apiKey !== 'string' || !s.apiKey || typeof s.secretKey !== 'string' || !s.secretKey) {
      throw new ConfigError('cohortSyncConfig needs apiKey and secretKey (strings)');
    }
    let interval = numberOption(
      'cohortSyncConfig.cohortPollingIntervalMillis',
      s.cohortPollingIntervalMillis,
      CohortSyncConfigDefaults.cohortPollingIntervalMillis,
      0,
      warn,
    );
    if (interval < 60_000) {
      warn(`cohortSyncConfig.cohortPollingIntervalMillis ${interval} is below the 60000 minimum; using 60000`);
      interval = 60_000;
    }
    cohortSyncConfig = {
      apiKey: s.apiKey,
      secretKey: s.secretKey,
      cohortServerUrl: urlOption('cohortSyncConfig.cohortServerUrl', s.cohortServerUrl, urls.cohort),
      maxCohortSize: numberOption('cohortSyncConfig.maxCohortSize', s.maxCohortSize, CohortSyncConfigDefaults.maxCohortSize, 0, warn),
      cohortPollingIntervalMillis: interval,
    };
  }
  for (const name of ['exposureConfig', 'assignmentConfig'] as const) {
    const t = c[name];
    if (t !== undefined && (typeof t !== 'object' || t === null || typeof t.apiKey !== 'string' || !t.apiKey)) {
      throw new ConfigError(`${name}.apiKey (the analytics project API key) is required`);
    }
  }
  if (c.hooks !== undefined && !Array.isArray(c.hooks)) throw new ConfigError('config.hooks must be an array of hooks');
  if (c.flagsFile !== undefined && (typeof c.flagsFile !== 'string' || c.flagsFile === '')) {
    throw new ConfigError('config.flagsFile must be a file path');
  }
  if (c.dataSource !== undefined && (typeof c.dataSource !== 'object' || c.dataSource === null ||
      typeof c.dataSource.subscribe !== 'function')) {
    throw new ConfigError('config.dataSource must have a subscribe(listener) method (for example a TestData)');
  }
  if (c.flagsFile !== undefined && c.dataSource !== undefined) {
    throw new ConfigError('config.flagsFile and config.dataSource cannot both be set');
  }
  if (c.persistence !== undefined && (typeof c.persistence !== 'object' || c.persistence === null ||
      typeof c.persistence.path !== 'string' || c.persistence.path === '')) {
    throw new ConfigError('config.persistence must be { path: string }');
  }
  if (c.metrics !== undefined && (typeof c.metrics !== 'object' || c.metrics === null)) {
    throw new ConfigError('config.metrics must be an object of callbacks (onEvaluation, onFlagConfigFetchFailure, ...)');
  }
  const proxyFromEnv = proxyFromEnvOption(c.proxyFromEnv, warn);
  if (proxyFromEnv && c.dispatcher) warn('config.proxyFromEnv is ignored because config.dispatcher is set');
  return {
    logger,
    instanceName: c.instanceName,
    serverZone: zone,
    serverUrl: urlOption('serverUrl', c.serverUrl, urls.flags),
    bootstrap: c.bootstrap,
    flagConfigPollingIntervalMillis: numberOption(
      'flagConfigPollingIntervalMillis',
      c.flagConfigPollingIntervalMillis,
      LocalEvaluationDefaults.flagConfigPollingIntervalMillis,
      1000,
      warn,
    ),
    flagConfigPollerRequestTimeoutMillis: numberOption(
      'flagConfigPollerRequestTimeoutMillis',
      c.flagConfigPollerRequestTimeoutMillis,
      LocalEvaluationDefaults.flagConfigPollerRequestTimeoutMillis,
      1,
      warn,
    ),
    startTimeoutMillis: numberOption('startTimeoutMillis', c.startTimeoutMillis, LocalEvaluationDefaults.startTimeoutMillis, 1, warn),
    streamUpdates: c.streamUpdates === true,
    streamServerUrl: urlOption('streamServerUrl', c.streamServerUrl, urls.stream),
    streamFlagConnTimeoutMillis: numberOption(
      'streamFlagConnTimeoutMillis',
      c.streamFlagConnTimeoutMillis,
      LocalEvaluationDefaults.streamFlagConnTimeoutMillis,
      1,
      warn,
    ),
    dispatcher: c.dispatcher,
    exposureConfig: c.exposureConfig,
    assignmentConfig: c.assignmentConfig,
    cohortSyncConfig,
    hooks: c.hooks ?? [],
    flagsFile: c.flagsFile,
    flagsFilePollIntervalMillis: numberOption('flagsFilePollIntervalMillis', c.flagsFilePollIntervalMillis, 1000, 10, warn),
    dataSource: c.dataSource,
    persistence: c.persistence,
    metrics: c.metrics,
    proxyFromEnv: proxyFromEnv && !c.dispatcher,
  };
}
