/**
 * Remote evaluation: variants are evaluated by Amplitude's server (or any
 * server speaking the same protocol) per request.
 *
 * Wire protocol and headers are exactly the official Node SDK's
 * (GET {serverUrl}/sdk/v2/vardata?v=0). Differences, all deliberate:
 * - undici with a keep-alive pool per client, and close() to abort in-flight
 *   requests and retry waits;
 * - fetchRetries defaults to 0 (Python SDK); retries back off with jitter
 *   through src/util/backoff; what is retried is src/util/retry's policy
 *   (a 4xx other than 408 and 429 is never retried, not even inside the
 *   retry loop);
 * - a final failure rejects with FetchError (statusCode, code, cause,
 *   attempts) from the last attempt;
 * - the timeouts are total deadlines, not socket-idle timeouts.
 */
import { backoffDelay, sleep } from '../util/backoff';
import { isRetryable } from '../util/retry';
import { apiKeyAuthorization } from '../util/auth';
import type { BackoffOptions } from '../util/backoff';
import { FetchError, HttpClient } from '../util/http';
import type { Logger } from '../util/logger';
import { errorMessage } from '../util/error-message';
import { catchRejection } from '../util/rejection';
import { convertParsedVariants, filterDefaultVariants } from '../util/variant';
import { resolveRemoteConfig } from '../config/remote';
import type { RemoteEvaluationConfig, ResolvedRemoteConfig } from '../config/remote';
import type { ExperimentUser, Variants } from '../types';
import { LIBRARY } from '../version';

/** Options for one fetch. The first three are the official SDK's. */
export interface FetchOptions {
  /** Evaluate only these flags (and what they depend on). */
  flagKeys?: string[];
  /** Track exposure events server-side. Unset: header not sent (server default: no tracking). */
  tracksExposure?: boolean;
  /** Track assignment events server-side. Unset: header not sent (server default: tracking). */
  tracksAssignment?: boolean;
  /** Abort this fetch (including retry waits); it rejects with FetchError code 'ABORTED'. */
  signal?: AbortSignal;
}

/**
 * Callback for fetchAsyncV2 / fetchAsync, like the Python SDK's
 * fetch_async_v2 callback(user, variants) — on failure it is called with
 * empty variants and the error as a third argument.
 */
export type FetchCallback = (user: ExperimentUser, variants: Variants, error?: Error) => void;

/** Encoded users longer than this cannot be cached by Amplitude's CDN (Python SDK warns too). */
const CDN_USER_LIMIT = 8000;

/**
 * Experiment client for fetching variants for a user remotely.
 */
export class RemoteEvaluationClient {
  private readonly apiKey: string;
  private readonly config: ResolvedRemoteConfig;
  private readonly logger: Logger;
  private readonly http: HttpClient;
  private readonly origin: string;
  private readonly path: string;
  private readonly backoff: BackoffOptions;
  private readonly lifetime = new AbortController();

  /**
   * @param apiKey The deployment key (server or client key).
   * @param config See RemoteEvaluationConfig. Validated here: an unusable
   *   serverUrl or dispatcher throws ConfigError; other bad values log a
   *   warning and use their default.
   */
  constructor(apiKey: string, config?: RemoteEvaluationConfig) {
    this.apiKey = apiKey;
    this.config = resolveRemoteConfig(config);
    this.logger = this.config.logger;
    if (!apiKey) this.logger.error('Experiment API key is empty: every fetch will fail');
    const base = new URL(this.config.serverUrl);
    this.origin = base.origin;
    this.path = base.pathname.replace(/\/+$/, '') + '/sdk/v2/vardata?v=0';
    this.http = new HttpClient({
      dispatcher: this.config.dispatcher,
      connections: this.config.connections,
      httpAgent: this.config.httpAgent,
      proxyFromEnv: this.config.proxyFromEnv,
    });
    this.backoff = {
      minMillis: this.config.fetchRetryBackoffMinMillis,
      maxMillis: this.config.fetchRetryBackoffMaxMillis,
      scalar: this.config.fetchRetryBackoffScalar,
    };
  }

  /**
   * Fetch remotely evaluated variants for a user, including default ("off")
   * variants. Retries (fetchRetries, default 0) what src/util/retry calls
   * retryable: network errors, timeouts, invalid bodies, 408, 429 and 5xx
   * other than 501.
   *
   * Rejects with FetchError on failure: `statusCode` is the HTTP status when
   * the server answered (undefined otherwise), `code` says what failed,
   * `cause` holds the underlying error, `attempts` the number of requests
   * made. Never resolves to an empty result because of an error.
   */
  async fetchV2(user: ExperimentUser, options?: FetchOptions): Promise<Variants> {
    if (!this.apiKey) throw new Error('Experiment API key is empty');
    if (this.http.isClosed) throw new FetchError(undefined, 'Client is closed', { code: 'CLOSED' });
    this.logger.debug('Fetching variants for user: ', user);
    const headers = this.buildHeaders(user, options);
    const signal = options?.signal;
    let error: FetchError;
    try {
      return await this.attempt(headers, this.config.fetchTimeoutMillis, signal);
    } catch (e) {
      error = e as FetchError;
    }
    let attempts = 1;
    const retries = this.config.fetchRetries;
    if (isRetryable(error) && retries > 0) {
      this.logger.debug('Fetch failed, retrying: ', error.message);
      const waitSignal = signal ? AbortSignal.any([this.lifetime.signal, signal]) : this.lifetime.signal;
      for (let i = 0; i < retries; i++) {
        try {
          // Ref'd timer: a caller is awaiting this result.
          await sleep(backoffDelay(this.backoff, i), { signal: waitSignal, unref: false });
        } catch {
          error = this.lifetime.signal.aborted
            ? new FetchError(undefined, 'Client closed while waiting to retry', { code: 'CLOSED', cause: error })
            : new FetchError(undefined, 'Fetch aborted while waiting to retry', { code: 'ABORTED', cause: error });
          break;
        }
        attempts++;
        try {
          return await this.attempt(headers, this.config.fetchRetryTimeoutMillis, signal);
        } catch (e) {
          error = e as FetchError;
          this.logger.debug(`Retry ${i + 1} of ${retries} failed: `, error.message);
          if (!isRetryable(error)) break;
        }
      }
    }
    error.attempts = attempts;
    // A cancellation the caller asked for (its signal, or close()) is no failure to report.
    if (error.code === 'ABORTED' || error.code === 'CLOSED') this.logger.debug(`Fetch cancelled: ${error.message}`);
    else this.logger.error('Fetch failed: ', error);
    throw error;
  }

  /**
   * Deprecated, as in the official SDK: like fetchV2 but never rejects
   * (resolves {} on error, after logging it) and drops default variants.
   * @deprecated use fetchV2
   */
  async fetch(user: ExperimentUser, options?: FetchOptions): Promise<Variants> {
    try {
      return filterDefaultVariants(await this.fetchV2(user, options));
    } catch (e) {
      this.logger.error('Failed to fetch variants: ', e);
      return {};
    }
  }

  /**
   * Callback form, like the Python SDK's fetch_async_v2(user, callback):
   * starts fetchV2 and returns at once; calls `callback(user, variants)` on
   * success or `callback(user, {}, error)` on failure. An exception thrown by
   * the callback is logged, never left as an unhandled rejection.
   */
  fetchAsyncV2(user: ExperimentUser, callback?: FetchCallback, options?: FetchOptions): void {
    this.fetchV2(user, options).then(
      (variants) => this.callBack(callback, user, variants, undefined),
      (e: unknown) => this.callBack(callback, user, {}, e instanceof Error ? e : new Error(errorMessage(e), { cause: e })),
    );
  }

  /**
   * Deprecated callback form (Python's fetch_async): default variants are
   * dropped, as in fetch().
   * @deprecated use fetchAsyncV2
   */
  fetchAsync(user: ExperimentUser, callback?: FetchCallback, options?: FetchOptions): void {
    this.fetchAsyncV2(user, (u, variants, error) => callback?.(u, filterDefaultVariants(variants), error), options);
  }

  /** True once close() has been called. */
  get isClosed(): boolean {
    return this.http.isClosed;
  }

  /**
   * Abort in-flight requests and retry waits (they reject with FetchError
   * code 'CLOSED') and release the connection pool. A dispatcher passed in
   * config is left open. Later fetches reject with code 'CLOSED'.
   */
  async close(): Promise<void> {
    this.lifetime.abort();
    await this.http.close();
  }

  private callBack(callback: FetchCallback | undefined, user: ExperimentUser, variants: Variants, error?: Error): void {
    if (!callback) return;
    const report = (e: unknown): void => this.logger.error('fetchAsyncV2 callback threw: ', e);
    try {
      // An async callback rejects instead of throwing: nobody else would catch that.
      catchRejection(error === undefined ? callback(user, variants) : callback(user, variants, error), report);
    } catch (e) {
      report(e);
    }
  }

  private buildHeaders(user: ExperimentUser | undefined, options: FetchOptions | undefined): Record<string, string> {
    // The caller's own `library` wins, as in the official SDK.
    const context = { library: LIBRARY, ...(user || {}) };
    const encodedUser = Buffer.from(JSON.stringify(context), 'utf8').toString('base64url');
    if (encodedUser.length > CDN_USER_LIMIT) {
      this.logger.warn(`encoded user object length ${encodedUser.length} cannot be cached by CDN; must be < 8KB`);
    }
    const headers: Record<string, string> = {
      Authorization: apiKeyAuthorization(this.apiKey),
      'X-Amp-Exp-User': encodedUser,
    };
    if (options) {
      if (options.flagKeys) {
        headers['X-Amp-Exp-Flag-Keys'] = Buffer.from(JSON.stringify(options.flagKeys), 'utf8').toString('base64url');
      }
      if (options.tracksAssignment !== undefined && options.tracksAssignment !== null) {
        headers['X-Amp-Exp-Track'] = options.tracksAssignment ? 'track' : 'no-track';
      }
      if (options.tracksExposure !== undefined && options.tracksExposure !== null) {
        headers['X-Amp-Exp-Exposure-Track'] = options.tracksExposure ? 'track' : 'no-track';
      }
    }
    return headers;
  }

  /** One HTTP attempt. Rejects only with FetchError. */
  private async attempt(headers: Record<string, string>, timeoutMillis: number, signal?: AbortSignal): Promise<Variants> {
    const res = await this.http.request({
      origin: this.origin,
      path: this.path,
      method: 'GET',
      headers,
      timeoutMillis,
      signal,
    });
    if (res.status !== 200) {
      throw new FetchError(res.status, `Fetch error response: status=${res.status}`, { code: 'HTTP_STATUS' });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new FetchError(200, `Invalid response body: ${(e as Error).message}`, {
        code: 'INVALID_RESPONSE',
        cause: e,
      });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new FetchError(200, 'Invalid response body: expected a JSON object of variants', {
        code: 'INVALID_RESPONSE',
      });
    }
    const variants = convertParsedVariants(parsed as Record<string, unknown>);
    this.logger.debug('Fetched variants: ', variants);
    return variants;
  }
}

/**
 * @deprecated use RemoteEvaluationClient (the official SDK's old name).
 */
export class ExperimentClient extends RemoteEvaluationClient {
  constructor(apiKey: string, config: RemoteEvaluationConfig) {
    super(apiKey, config);
  }
}
