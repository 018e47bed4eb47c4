/**
 * Remote evaluation config: every option of @amplitude/experiment-node-server's
 * RemoteEvaluationConfig, the Python SDK's `logger` and `ServerZone`, plus an
 * undici `dispatcher`. Resolved and validated once, at construction.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Agent as UndiciAgent } from 'undici';
import { ConfigError, normalizeServerZone, numberOption, proxyFromEnvOption, serverUrlsFor, ServerZone, urlOption } from './common';
import type { ServerZoneInput } from './common';
import { createLogger, LogLevel } from '../util/logger';
import type { Logger, LoggerProvider } from '../util/logger';

export interface RemoteEvaluationConfig {
  /** Deprecated in the official SDK: true forces logLevel Debug (ignored with a custom `logger`). */
  debug?: boolean;
  /** Default LogLevel.Error. */
  logLevel?: LogLevel;
  /** Official SDK style logger (filtered by logLevel). Default: the console. */
  loggerProvider?: LoggerProvider;
  /** Python SDK style logger (console, pino, winston...): keeps its own level. */
  logger?: LoggerProvider;
  /** Keys the singleton in Experiment.initializeRemote: `${apiKey}-${instanceName}`. */
  instanceName?: string;
  /** 'us' (default) or 'eu', any case, or ServerZone.US / ServerZone.EU. */
  serverZone?: ServerZoneInput;
  /** Overrides serverZone. Default https://api.lab.amplitude.com (EU: https://api.lab.eu.amplitude.com). */
  serverUrl?: string;
  /** Deadline for the first attempt, ms. Default 10000. 0 fails at once. */
  fetchTimeoutMillis?: number;
  /** Retries after a failed first attempt. Default 0 (the Python SDK's; the official Node SDK's is 8). */
  fetchRetries?: number;
  /** First retry delay, ms. Default 500. */
  fetchRetryBackoffMinMillis?: number;
  /** Cap on the retry delay, ms. Default 10000. */
  fetchRetryBackoffMaxMillis?: number;
  /** Delay growth per retry. Default 1.5. */
  fetchRetryBackoffScalar?: number;
  /** Deadline for each retry attempt, ms. Default 10000. */
  fetchRetryTimeoutMillis?: number;
  /**
   * Accepted for compatibility with the official SDK, which uses a Node
   * https.Agent. This SDK uses undici: the agent itself is not used, but its
   * TLS options (ca, cert, key, rejectUnauthorized, ...) and maxSockets are
   * carried over, and a warning says so. Prefer `dispatcher`.
   */
  httpAgent?: HttpAgent | null;
  /** An undici Dispatcher (Agent, Pool, ProxyAgent, MockAgent). The client does not close it. */
  dispatcher?: Dispatcher;
  /** Python SDK's connection_pool_max_size: max connections to the server. Default unlimited. */
  connectionPoolMaxSize?: number;
  /**
   * Send requests through the proxy named by HTTP_PROXY / HTTPS_PROXY, except for hosts in NO_PROXY. Default: on
   * when NODE_USE_ENV_PROXY=1, else off. Ignored when `dispatcher` is given. docs/observability.md
   */
  proxyFromEnv?: boolean;
}

/** @deprecated use RemoteEvaluationConfig (kept for the official SDK's name). */
export type ExperimentConfig = RemoteEvaluationConfig;

export interface RemoteEvaluationDefaultsType {
  debug: boolean;
  logLevel: LogLevel;
  loggerProvider: LoggerProvider;
  instanceName: string | undefined;
  serverZone: string;
  serverUrl: string;
  fetchTimeoutMillis: number;
  fetchRetries: number;
  fetchRetryBackoffMinMillis: number;
  fetchRetryBackoffMaxMillis: number;
  fetchRetryBackoffScalar: number;
  fetchRetryTimeoutMillis: number;
  httpAgent: HttpAgent | null;
}

/**
 * Defaults. The same shape and values as the official SDK's, except
 * fetchRetries: 0 (the Python SDK's documented default; the official Node
 * SDK retries 8 times, up to about two minutes on a dead server).
 */
export const RemoteEvaluationDefaults: RemoteEvaluationDefaultsType = {
  debug: false,
  logLevel: LogLevel.Error,
  loggerProvider: console,
  instanceName: undefined,
  serverZone: 'us',
  serverUrl: 'https://api.lab.amplitude.com',
  fetchTimeoutMillis: 10000,
  fetchRetries: 0,
  fetchRetryBackoffMinMillis: 500,
  fetchRetryBackoffMaxMillis: 10000,
  fetchRetryBackoffScalar: 1.5,
  fetchRetryTimeoutMillis: 10000,
  httpAgent: null,
};

/** @deprecated use RemoteEvaluationDefaults. */
export const Defaults: RemoteEvaluationDefaultsType = RemoteEvaluationDefaults;

/** The config after validation: what the client runs with. */
export interface ResolvedRemoteConfig {
  logger: Logger;
  instanceName: string | undefined;
  serverZone: ServerZone;
  serverUrl: string;
  fetchTimeoutMillis: number;
  fetchRetries: number;
  fetchRetryBackoffMinMillis: number;
  fetchRetryBackoffMaxMillis: number;
  fetchRetryBackoffScalar: number;
  fetchRetryTimeoutMillis: number;
  dispatcher: Dispatcher | undefined;
  connections: number | undefined;
  connect: UndiciAgent.Options['connect'] | undefined;
  proxyFromEnv: boolean;
}

const KNOWN_OPTIONS = new Set<string>([
  'debug',
  'logLevel',
  'loggerProvider',
  'logger',
  'instanceName',
  'serverZone',
  'serverUrl',
  'fetchTimeoutMillis',
  'fetchRetries',
  'fetchRetryBackoffMinMillis',
  'fetchRetryBackoffMaxMillis',
  'fetchRetryBackoffScalar',
  'fetchRetryTimeoutMillis',
  'httpAgent',
  'dispatcher',
  'connectionPoolMaxSize',
  'proxyFromEnv',
]);

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** TLS options of a Node https.Agent that undici's `connect` understands. */
const TLS_KEYS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'ciphers',
  'servername',
  'minVersion',
  'maxVersion',
  'checkServerIdentity',
  'secureOptions',
  'ecdhCurve',
  'crl',
] as const;

function isDispatcher(value: unknown): value is Dispatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { dispatch?: unknown }).dispatch === 'function' &&
    typeof (value as { request?: unknown }).request === 'function'
  );
}

/**
 * Validate a user config. Throws ConfigError for what cannot be defaulted
 * (a malformed serverUrl or dispatcher); warns and uses the default for
 * other bad values.
 */
export function resolveRemoteConfig(config: RemoteEvaluationConfig | undefined | null): ResolvedRemoteConfig {
  const c: RemoteEvaluationConfig = config ?? {};
  if (typeof c !== 'object') throw new ConfigError('config must be an object');
  const d = RemoteEvaluationDefaults;
  const logger = createLogger({
    debug: c.debug ?? d.debug,
    logLevel: c.logLevel ?? d.logLevel,
    loggerProvider: c.loggerProvider ?? d.loggerProvider,
    logger: c.logger,
  });
  const warn = (m: string): void => logger.warn(m);

  for (const key of Object.keys(c)) {
    if (KNOWN_OPTIONS.has(key)) continue;
    const hint = KNOWN_OPTIONS.has(camel(key)) ? ` (did you mean ${camel(key)}?)` : '';
    warn(`config.${key} is not a remote evaluation option and is ignored${hint}`);
  }

  let instanceName: string | undefined;
  if (c.instanceName !== undefined && c.instanceName !== null) {
    if (typeof c.instanceName === 'string') instanceName = c.instanceName;
    else warn(`config.instanceName must be a string; got ${typeof c.instanceName}, ignoring it`);
  }

  const zoneInput = c.serverZone ?? d.serverZone;
  if (typeof zoneInput !== 'string') {
    warn(`config.serverZone must be 'us' or 'eu'; got ${String(zoneInput)}, using 'us'`);
  } else if (!['us', 'eu'].includes(zoneInput.toLowerCase())) {
    warn(`config.serverZone '${zoneInput}' is not 'us' or 'eu'; using 'us'`);
  }
  const serverZone = normalizeServerZone(zoneInput);
  // An explicit serverUrl wins over the zone, as in the official SDK.
  const zoneDefault = serverZone === ServerZone.EU ? serverUrlsFor(ServerZone.EU).remote : d.serverUrl;
  const serverUrl = urlOption('serverUrl', c.serverUrl, zoneDefault);

  const fetchTimeoutMillis = numberOption('fetchTimeoutMillis', c.fetchTimeoutMillis, d.fetchTimeoutMillis, 0, warn);
  let fetchRetries = numberOption('fetchRetries', c.fetchRetries, d.fetchRetries, 0, warn);
  if (!Number.isInteger(fetchRetries)) {
    warn(`config.fetchRetries must be an integer; got ${fetchRetries}, using ${Math.floor(fetchRetries)}`);
    fetchRetries = Math.floor(fetchRetries);
  }
  const fetchRetryBackoffMinMillis = numberOption(
    'fetchRetryBackoffMinMillis',
    c.fetchRetryBackoffMinMillis,
    d.fetchRetryBackoffMinMillis,
    0,
    warn,
  );
  let fetchRetryBackoffMaxMillis = numberOption(
    'fetchRetryBackoffMaxMillis',
    c.fetchRetryBackoffMaxMillis,
    d.fetchRetryBackoffMaxMillis,
    0,
    warn,
  );
  if (fetchRetryBackoffMaxMillis < fetchRetryBackoffMinMillis) {
    warn(
      `config.fetchRetryBackoffMaxMillis (${fetchRetryBackoffMaxMillis}) is below fetchRetryBackoffMinMillis ` +
        `(${fetchRetryBackoffMinMillis}); using ${fetchRetryBackoffMinMillis}`,
    );
    fetchRetryBackoffMaxMillis = fetchRetryBackoffMinMillis;
  }
  const fetchRetryBackoffScalar = numberOption(
    'fetchRetryBackoffScalar',
    c.fetchRetryBackoffScalar,
    d.fetchRetryBackoffScalar,
    1,
    warn,
  );
  const fetchRetryTimeoutMillis = numberOption(
    'fetchRetryTimeoutMillis',
    c.fetchRetryTimeoutMillis,
    d.fetchRetryTimeoutMillis,
    0,
    warn,
  );

  let dispatcher: Dispatcher | undefined;
  if (c.dispatcher !== undefined && c.dispatcher !== null) {
    if (!isDispatcher(c.dispatcher)) throw new ConfigError('config.dispatcher must be an undici Dispatcher');
    dispatcher = c.dispatcher;
  }

  const proxyFromEnv = proxyFromEnvOption(c.proxyFromEnv, warn) && !dispatcher;
  if (c.proxyFromEnv === true && dispatcher) warn('config.proxyFromEnv is ignored because config.dispatcher is set');

  let connections: number | undefined;
  if (c.connectionPoolMaxSize !== undefined && c.connectionPoolMaxSize !== null) {
    const n = numberOption('connectionPoolMaxSize', c.connectionPoolMaxSize, 0, 1, warn);
    connections = n >= 1 ? Math.floor(n) : undefined;
  }

  let connect: UndiciAgent.Options['connect'] | undefined;
  const agent = c.httpAgent ?? d.httpAgent;
  if (agent !== null && agent !== undefined) {
    if (dispatcher) {
      warn('config.httpAgent is ignored because config.dispatcher is set');
    } else if (typeof agent !== 'object') {
      warn('config.httpAgent must be an http(s).Agent; ignoring it');
    } else {
      const a = agent as HttpAgent & { options?: Record<string, unknown> };
      const opts = a.options ?? {};
      const tls: Record<string, unknown> = {};
      for (const k of TLS_KEYS) if (opts[k] !== undefined) tls[k] = opts[k];
      if (Object.keys(tls).length > 0) connect = tls as UndiciAgent.Options['connect'];
      if (connections === undefined && Number.isFinite(a.maxSockets) && a.maxSockets > 0) connections = a.maxSockets;
      warn(
        'config.httpAgent is not used (this SDK sends requests with undici); its TLS options and maxSockets ' +
          'are applied. Pass config.dispatcher (an undici Agent or ProxyAgent) for anything else.',
      );
    }
  }

  return {
    logger,
    instanceName,
    serverZone,
    serverUrl,
    fetchTimeoutMillis,
    fetchRetries,
    fetchRetryBackoffMinMillis,
    fetchRetryBackoffMaxMillis,
    fetchRetryBackoffScalar,
    fetchRetryTimeoutMillis,
    dispatcher,
    connections,
    connect,
    proxyFromEnv,
  };
}
