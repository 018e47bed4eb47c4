/**
 * Fetches flag configs (`GET {serverUrl}/sdk/v2/flags`) and keeps them fresh
 * by polling. Failures back off through the project's one backoff helper and
 * never stop the poller; the store keeps its last good snapshot meanwhile.
 */
import { Backoff, type BackoffOptions, sleep } from '../util/backoff';
import { FetchError, HttpClient, splitUrl } from '../util/http';
import { isPermanentFailure } from '../util/retry';
import { apiKeyAuthorization, sdkHeaders } from '../util/auth';
import type { Logger } from '../util/logger';
import { type MetricsSink, NO_METRICS } from '../metrics';
import { checkFlagResponse, contentTypeOf, NotAFlagPayloadError } from './sources/flag-response';
import { errorMessage } from '../util/error-message';

export interface FlagPollerOptions {
  apiKey: string;
  serverUrl: string;
  /** Ask this evaluation-proxy first; Amplitude (serverUrl) answers when the proxy fails. */
  proxyUrl?: string;
  pollingIntervalMillis: number;
  requestTimeoutMillis: number;
  http: HttpClient;
  logger: Logger;
  /** Hands a payload to the store; false when it was not usable (kept the old one). */
  onPayload: (body: Buffer) => boolean | Promise<boolean>;
  metrics?: MetricsSink;
  /** Told about each failed request (for status and events; logging stays here). */
  onError?: (error: unknown) => void;
  /** Delays after a failed poll. Default pollFailureBackoff(pollingIntervalMillis). */
  failureBackoff?: BackoffOptions;
  /** Delays between the first fetch's retries in start(). Default INITIAL_FETCH_BACKOFF. */
  initialBackoff?: BackoffOptions;
}

/** Kept here for the callers that import it from the poller. */
export { isPermanentFailure } from '../util/retry';

/** After a failed poll: 1 s, doubling up to the polling interval, so a failing server is not polled faster than usual. */
export function pollFailureBackoff(pollingIntervalMillis: number): BackoffOptions {
  return { minMillis: 1000, maxMillis: Math.max(1000, pollingIntervalMillis), scalar: 2 };
}

/** Retries of the first flag fetch: quick at first, since start() is waiting on it. */
export const INITIAL_FETCH_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ minMillis: 250, maxMillis: 5000, scalar: 2 });

export class FlagPoller {
  private readonly origin: string;
  private readonly path: string;
  private readonly failureBackoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  /** Polling scheduled (startPolling until pausePolling/stop). */
  private active = false;
  private inFlight = false;
  private readonly proxy: { origin: string; path: string } | undefined;
  private proxyFailing = false;
  private fromProxy = false;

  constructor(private readonly options: FlagPollerOptions) {
    const { origin, path } = splitUrl(options.serverUrl + '/sdk/v2/flags');
    this.origin = origin;
    this.path = path;
    if (options.proxyUrl) this.proxy = splitUrl(options.proxyUrl + '/sdk/v2/flags');
    this.failureBackoff = new Backoff(options.failureBackoff ?? pollFailureBackoff(options.pollingIntervalMillis));
  }

  /**
   * One request (to the evaluation proxy first when there is one, then to
   * Amplitude if the proxy fails); resolves with the body of a 200, rejects
   * with FetchError otherwise.
   */
  async fetchOnce(): Promise<Buffer> {
    const metrics = this.options.metrics ?? NO_METRICS;
    try {
      const body = await this.fetchProxyFirst();
      metrics.onFlagConfigFetch();
      return body;
    } catch (err) {
      if (!this.stopped) metrics.onFlagConfigFetchFailure(err);
      throw err;
    }
  }

  private async fetchProxyFirst(): Promise<Buffer> {
    const proxy = this.proxy;
    if (proxy === undefined) return this.fetchFrom(this.origin, this.path);
    try {
      const body = await this.fetchFrom(proxy.origin, proxy.path);
      this.fromProxy = true;
      if (this.proxyFailing) {
        this.proxyFailing = false;
        this.options.logger.info('flags from the evaluation proxy are served again');
      }
      return body;
    } catch (err) {
      if (this.stopped) throw err;
      if (!this.proxyFailing) {
        this.proxyFailing = true;
        this.options.logger.warn(
          `flags from the evaluation proxy failed (${errorMessage(err)}); fetching them from Amplitude until it answers`,
        );
      }
      this.fromProxy = false;
      return this.fetchFrom(this.origin, this.path);
    }
  }

  /** True when the last payload came from the evaluation proxy (not from Amplitude). */
  get answeredByProxy(): boolean {
    return this.fromProxy;
  }

  private async fetchFrom(origin: string, path: string): Promise<Buffer> {
    const response = await this.options.http.request({
      origin,
      path,
      method: 'GET',
      headers: sdkHeaders(apiKeyAuthorization(this.options.apiKey)),
      timeoutMillis: this.options.requestTimeoutMillis,
      signal: this.abort.signal,
    });
    if (response.status !== 200) {
      throw new FetchError(response.status, `flag request failed: status=${response.status}`);
    }
    checkFlagResponse(origin + path, contentTypeOf(response.headers), response.body);
    return response.body;
  }

  /**
   * Load flags until one payload is accepted or `deadline` passes. Rejects at
   * once on a permanent failure (401, 403, 404..., a web page instead of
   * flags) and when nothing listens at serverUrl.
   */
  async loadInitial(deadline: number): Promise<void> {
    const backoff = new Backoff(this.options.initialBackoff ?? INITIAL_FETCH_BACKOFF);
    let lastError: unknown;
    while (!this.stopped) {
      try {
        const body = await this.fetchOnce();
        if (await this.options.onPayload(body)) return;
        lastError = new Error(`the flag payload from ${this.options.serverUrl} was not usable (see the logged error)`);
      } catch (err) {
        if (this.stopped) break;
        this.options.onError?.(err);
        if (isPermanentFailure(err)) throw describeFailure(err);
        if (err instanceof NotAFlagPayloadError && err.permanent) throw err.withNote('Polling continues in the background');
        // Nothing listens there: waiting out the deadline would only hide a wrong serverUrl.
        const unreachable = unreachableReason(err);
        if (unreachable !== undefined) throw unreachableError(this.options.serverUrl, unreachable, err);
        lastError = err;
      }
      const wait = backoff.next();
      if (Date.now() + wait >= deadline) break;
      this.options.logger.debug(`flag fetch failed (${errorMessage(lastError)}); retrying in ${wait} ms`);
      try {
        await sleep(wait, { signal: this.abort.signal });
      } catch {
        break;
      }
    }
    throw describeFailure(lastError ?? new Error('client stopped'));
  }

  /** Poll every interval until pausePolling() or stop(); timers never keep the process alive. */
  startPolling(): void {
    if (this.stopped || this.active) return;
    this.active = true;
    if (!this.inFlight) this.schedule(this.options.pollingIntervalMillis);
  }

  /** Stop scheduling polls (the stream took over); startPolling() resumes. */
  pausePolling(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get isPolling(): boolean {
    return this.active;
  }

  /** Poll now (unless a poll is in flight); the schedule continues from it when polling is active. */
  pollNow(): void {
    if (this.stopped || this.inFlight) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.poll();
  }

  private schedule(delay: number): void {
    if (this.stopped || !this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delay);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    this.inFlight = true;
    let next: number;
    try {
      const body = await this.fetchOnce();
      await this.options.onPayload(body);
      this.failureBackoff.reset();
      next = this.options.pollingIntervalMillis;
    } catch (err) {
      if (this.stopped) return;
      this.options.onError?.(err);
      next = this.failureBackoff.next();
      this.options.logger.warn(`flag poll failed: ${errorMessage(err)}; next try in ${next} ms`);
    } finally {
      this.inFlight = false;
    }
    this.schedule(next);
  }

  stop(): void {
    this.stopped = true;
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort(new Error('client stopped'));
  }
}

function describeFailure(error: unknown): Error {
  if (error instanceof FetchError && (error.statusCode === 401 || error.statusCode === 403)) {
    return new FetchError(
      error.statusCode,
      `flag request was rejected with status ${error.statusCode}: check the deployment key (a server deployment key is required)`,
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Why no server could answer, from ECONNREFUSED or ENOTFOUND anywhere in the cause chain ("nothing accepts
 * connections there", "its host name does not resolve"); undefined for any other failure.
 */
export function unreachableReason(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return 'nothing accepts connections there';
    if (code === 'ENOTFOUND') return 'its host name does not resolve';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function unreachableError(serverUrl: string, what: string, cause: unknown): Error {
  const detail = errorMessage(cause);
  return new Error(
    `flags cannot be fetched from ${serverUrl}: ${what} (${detail}); check serverUrl. Polling continues in the background`,
    { cause },
  );
}
