/**
 * Logging. Accepts the official Node SDK's `loggerProvider` + `logLevel` and the
 * Python SDK's `logger` (any object with debug/info/warn/error: console, pino,
 * winston). A user `logger` keeps its own level; `debug` only affects ours.
 */

import { catchRejection } from './rejection';

export enum LogLevel {
  Disable = 0,
  Error = 1,
  Warn = 2,
  Info = 3,
  Debug = 4,
  Verbose = 5,
}

/** The official SDK's logger interface. */
export interface LoggerProvider {
  verbose?(message?: unknown, ...optionalParams: unknown[]): void;
  debug(message?: unknown, ...optionalParams: unknown[]): void;
  info(message?: unknown, ...optionalParams: unknown[]): void;
  warn(message?: unknown, ...optionalParams: unknown[]): void;
  error(message?: unknown, ...optionalParams: unknown[]): void;
}

/** What the SDK logs through: every level exists, filtering already applied. */
export interface Logger {
  verbose(message: string, ...rest: unknown[]): void;
  debug(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

export interface LoggingOptions {
  debug?: boolean;
  logLevel?: LogLevel;
  loggerProvider?: LoggerProvider;
  /** Python SDK style: a ready logger that keeps its own level. */
  logger?: LoggerProvider;
}

const PREFIX = '[Experiment] ';

function isLoggerLike(value: unknown): value is LoggerProvider {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return ['debug', 'info', 'warn', 'error'].every((m) => typeof v[m] === 'function');
}

function call(target: LoggerProvider, method: keyof LoggerProvider, message: string, rest: unknown[]): void {
  // A user logger that throws (a method, or a getter for one) or rejects (an async one whose sink is down) must never
  // break flag evaluation or end the process. Its failure is dropped: reporting it would go through it again.
  try {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only its type or presence is read here, or it is called with its object
    const fn = target[method] ?? target.debug;
    catchRejection(fn.call(target, PREFIX + message, ...rest), noop);
  } catch {
    // Dropped, as above.
  }
}

interface Target {
  provider: LoggerProvider;
  level: LogLevel;
  /** Problems with the logging options themselves (reported on the console: there is no usable logger). */
  problems: string[];
}

function targetOf(options: LoggingOptions): Target {
  const problems: string[] = [];
  if (options.logger !== undefined && options.logger !== null) {
    // Python semantics: the user's logger filters by its own level.
    if (isLoggerLike(options.logger)) return { provider: options.logger, level: LogLevel.Verbose, problems };
    problems.push('config.logger must have debug, info, warn and error methods; using the console');
  }
  let level = options.logLevel ?? LogLevel.Error;
  if (!Object.values(LogLevel).includes(level)) {
    problems.push(`config.logLevel ${String(level)} is not a LogLevel; using Error`);
    level = LogLevel.Error;
  }
  if (options.debug === true && level < LogLevel.Debug) level = LogLevel.Debug;
  let provider: LoggerProvider = console;
  if (options.loggerProvider !== undefined && options.loggerProvider !== null) {
    if (isLoggerLike(options.loggerProvider)) provider = options.loggerProvider;
    else problems.push('config.loggerProvider must have debug, info, warn and error methods; using the console');
  }
  return { provider, level, problems };
}

/**
 * Build the SDK logger from user options. Invalid logger objects are reported
 * on the console once and replaced by the default.
 */
export function createLogger(options: LoggingOptions): Logger {
  const target = targetOf(options);
  for (const problem of target.problems) console.warn(PREFIX + problem);
  return makeLogger(target.provider, target.level);
}

/**
 * Where mistakes in the config go: the logger's warn(), at every level but
 * Disable, because the default level (Error) would hide them and the client
 * would then quietly run on defaults the user did not ask for. A user
 * `logger` (Python style) decides for itself, as always.
 */
export function createConfigReporter(options: LoggingOptions): (message: string) => void {
  const { provider, level } = targetOf(options);
  if (level === LogLevel.Disable) return noop;
  return (message: string) => call(provider, 'warn', message, []);
}

const noop = (): void => undefined;

function makeLogger(target: LoggerProvider, level: LogLevel): Logger {
  const at = (min: LogLevel, method: keyof LoggerProvider) =>
    level >= min ? (message: string, ...rest: unknown[]) => call(target, method, message, rest) : noop;
  return {
    verbose: at(LogLevel.Verbose, 'verbose'),
    debug: at(LogLevel.Debug, 'debug'),
    info: at(LogLevel.Info, 'info'),
    warn: at(LogLevel.Warn, 'warn'),
    error: at(LogLevel.Error, 'error'),
  };
}
