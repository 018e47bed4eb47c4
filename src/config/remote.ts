/**
 * Remote evaluation config: every option of @amplitude/experiment-node-server's
 * RemoteEvaluationConfig, the Python SDK's `logger` and `ServerZone`, plus an
 * undici `dispatcher`. The types live here; defaults, bounds and validation
 * come from the one option table (./options.ts). Resolved once, at construction.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';
import { normalizeServerZone, type ServerZone, type ServerZoneInput } from './common';
import { defaultsOf } from './option-table';
import { OPTIONS, type TableMatches } from './options';
import { resolveClientOptions } from './resolve-client';
import { resolveTransport } from './transport';
import type { LogLevel } from '../util/logger';
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

// Every field above has a row in the option table, and every remote row a field above.
const remoteFieldsMatchTable: TableMatches<'remote', RemoteEvaluationConfig> = true;
void remoteFieldsMatchTable;

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
 * Defaults, from the option table. The same shape and values as the
 * official SDK's, except fetchRetries: 0 (the Python SDK's documented
 * default; the official Node SDK retries 8 times, up to about two minutes on
 * a dead server).
 */
export const RemoteEvaluationDefaults: RemoteEvaluationDefaultsType = defaultsOf(OPTIONS, 'remote', [
  'debug',
  'logLevel',
  'loggerProvider',
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
] as const) as RemoteEvaluationDefaultsType;

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
  /** The caller's http(s).Agent, for https requests (not with a dispatcher). */
  httpAgent: HttpAgent | undefined;
  /** From connectionPoolMaxSize: max connections of the client's own undici Agent. */
  connections: number | undefined;
  proxyFromEnv: boolean;
}

/**
 * Validate a user config against the option table. Throws ConfigError for
 * what the client cannot run with (a malformed serverUrl or dispatcher);
 * for other mistakes logs a warning at every log level but Disable and uses
 * the default.
 */
export function resolveRemoteConfig(config: RemoteEvaluationConfig | undefined | null): ResolvedRemoteConfig {
  const { resolved: r, logger, mistake } = resolveClientOptions(config, 'remote');
  const min = r.fetchRetryBackoffMinMillis as number;
  let max = r.fetchRetryBackoffMaxMillis as number;
  if (max < min) {
    mistake(`config.fetchRetryBackoffMaxMillis (${max}) is below fetchRetryBackoffMinMillis (${min}); using ${min}`);
    max = min;
  }
  const transport = resolveTransport(
    r.dispatcher as Dispatcher | undefined,
    r.httpAgent as HttpAgent | null,
    r.proxyFromEnv,
    mistake,
  );
  return {
    logger,
    instanceName: r.instanceName as string | undefined,
    serverZone: normalizeServerZone(r.serverZone),
    serverUrl: r.serverUrl as string,
    fetchTimeoutMillis: r.fetchTimeoutMillis as number,
    fetchRetries: r.fetchRetries as number,
    fetchRetryBackoffMinMillis: min,
    fetchRetryBackoffMaxMillis: max,
    fetchRetryBackoffScalar: r.fetchRetryBackoffScalar as number,
    fetchRetryTimeoutMillis: r.fetchRetryTimeoutMillis as number,
    ...transport,
    connections: r.connectionPoolMaxSize as number | undefined,
  };
}
