/**
 * Cohort sync for local evaluation: downloads the cohorts flags reference
 * (`GET {cohortServerUrl}/sdk/v1/cohort/{id}?maxCohortSize=N[&lastModified=M]`,
 * Basic auth), keeps them in the engine's CohortStore (native memory, parsed
 * off the main thread) and refreshes them every cohortPollingIntervalMillis
 * (users are enriched with the cohorts they are in by cohort-utils.ts).
 *
 * Status handling: 200 replaces the cohort, 204 keeps it, 413 (larger than
 * maxCohortSize) is not retried; other statuses follow src/util/retry (as
 * the official SDK, except that 408 is retried and 501 is not); timeouts,
 * network errors and unparsable bodies are retried through the backoff helper. A failed download never removes a
 * cohort that is loaded: the last good members keep serving.
 */
import type { CohortInfo, CohortStore } from '../engine/cohort-store';
import { Backoff, sleep } from '../util/backoff';
import { isRetryableStatus } from '../util/retry';
import { basicAuthorization, sdkHeaders } from '../util/auth';
import { FetchError, type HttpClient, type HttpStream, splitUrl } from '../util/http';
import { type MetricsSink, NO_METRICS } from '../metrics';
import type { Logger } from '../util/logger';
import { zlib } from '../util/builtins';
import type { CohortLoader } from './sources/types';
import { MemoryReleaser } from './release-memory';
import { errorMessage } from '../util/error-message';

/** Per-request deadline, as the official SDK's COHORT_CONFIG_TIMEOUT. */
export const COHORT_REQUEST_TIMEOUT_MILLIS = 20_000;
/** Attempts per download before the round gives up (the official SDK makes 3). */
export const COHORT_ATTEMPTS = 3;
/** Downloads in flight at once (the official SDK's Executor(4)). */
export const COHORT_CONCURRENCY = 4;

/** Retry schedule within one download (the official SDK waits a flat 100 ms). */
export const COHORT_RETRY_BACKOFF = Object.freeze({ minMillis: 250, maxMillis: 5_000, scalar: 2 });

export interface CohortSyncOptions {
  apiKey: string;
  secretKey: string;
  cohortServerUrl: string;
  /** Ask this evaluation-proxy first; cohortServerUrl answers when the proxy fails (not for 204 or 413). */
  proxyUrl?: string;
  maxCohortSize: number;
  pollingIntervalMillis: number;
  http: HttpClient;
  logger: Logger;
  store: CohortStore;
  /** Overrides for tests: retry schedule within a download, and the missing-cohort retry schedule. */
  retryBackoff?: { minMillis: number; maxMillis: number; scalar: number };
  missingRetryBackoff?: { minMillis: number; maxMillis: number; scalar: number };
  requestTimeoutMillis?: number;
  /** Called with each downloaded body once it is loaded (fleet mode publishes it to Redis). */
  onLoaded?: (cohortId: string, body: Buffer, info: CohortInfo) => void;
  metrics?: MetricsSink;
}

/** How one download ended. */
export type CohortOutcome = 'loaded' | 'unchanged' | 'too-large' | 'rejected' | 'failed' | 'stopped';

/** Cohorts from Amplitude's cohort API (cohortSyncConfig): the client's default CohortLoader. */
export class CohortSync implements CohortLoader {
  private readonly origin: string;
  private readonly basePath: string;
  private readonly proxy: { origin: string; path: string } | undefined;
  private proxyFailing = false;
  private readonly authorization: string;
  private readonly abort = new AbortController();
  private readonly inFlight = new Map<string, Promise<CohortOutcome>>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private missingTimer: NodeJS.Timeout | undefined;
  private readonly missingBackoff: Backoff;
  private stopped = false;
  /** Cohorts whose last download ended in 413 or another non-retryable 4xx: left to the periodic refresh. */
  private readonly definitive = new Set<string>();
  private readonly memory: MemoryReleaser;
  private referenced: () => ReadonlySet<string> = () => new Set();
  private onChange: (changed: ReadonlySet<string>) => void = () => undefined;

  constructor(private readonly options: CohortSyncOptions) {
    const { origin, path } = splitUrl(options.cohortServerUrl + '/sdk/v1/cohort');
    this.origin = origin;
    this.basePath = path;
    this.memory = new MemoryReleaser(options.store);
    if (options.proxyUrl) this.proxy = splitUrl(options.proxyUrl + '/sdk/v1/cohort');
    this.authorization = basicAuthorization(options.apiKey, options.secretKey);
    this.missingBackoff = new Backoff(
      options.missingRetryBackoff ?? { minMillis: 2_000, maxMillis: options.pollingIntervalMillis, scalar: 2 },
    );
  }

  private get metrics(): MetricsSink {
    return this.options.metrics ?? NO_METRICS;
  }

  get store(): CohortStore {
    return this.options.store;
  }

  /**
   * Download the referenced cohorts that are not loaded yet (in parallel,
   * at most COHORT_CONCURRENCY at once). Resolves when each has loaded or
   * failed for good this round; never rejects.
   */
  async loadMissing(ids: Iterable<string>): Promise<void> {
    const missing = Array.from(ids).filter((id) => !this.options.store.has(id));
    await Promise.all(missing.map((id) => this.download(id, undefined)));
  }

  /** Refresh every referenced cohort (with its lastModified); onChange gets the ones whose members were replaced. */
  async refresh(ids: Iterable<string>): Promise<void> {
    const changed = new Set<string>();
    await Promise.all(
      Array.from(ids).map(async (id) => {
        const lastModified = this.options.store.info(id)?.lastModified;
        const outcome = await this.download(id, lastModified);
        if (outcome === 'loaded') changed.add(id);
      }),
    );
    if (changed.size > 0) this.onChange(changed);
  }

  /** CohortLoader: a snapshot referencing `ids` is in force. */
  installed(ids: ReadonlySet<string>): void {
    this.removeUnused(ids);
    this.scheduleMissingRetry();
  }

  /** CohortLoader: refresh in the background (and retry the missing ones now). */
  startRefresh(referenced: () => ReadonlySet<string>, onChange: (changed: ReadonlySet<string>) => void): void {
    this.startPolling(referenced, onChange);
    this.scheduleMissingRetry();
  }

  /** Remove loaded cohorts that no flag references any more. */
  removeUnused(keep: ReadonlySet<string>): void {
    for (const id of this.options.store.ids()) {
      if (!keep.has(id)) {
        this.options.store.remove(id);
        this.options.logger.debug(`cohort ${id} removed (no flag references it)`);
      }
    }
  }

  /**
   * Refresh the referenced cohorts every pollingIntervalMillis; retry
   * missing ones sooner, with backoff. `onChange` runs after a refresh that
   * loaded something.
   */
  startPolling(referenced: () => ReadonlySet<string>, onChange: (changed: ReadonlySet<string>) => void): void {
    this.referenced = referenced;
    this.onChange = onChange;
    if (this.stopped || this.pollTimer) return;
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      void this.refresh(this.referenced()).finally(() => {
        this.scheduleMissingRetry();
        this.schedulePoll();
      });
    }, this.options.pollingIntervalMillis);
    this.pollTimer.unref();
  }

  /** After a round left referenced cohorts missing: try them again later (backoff), until all are loaded. */
  scheduleMissingRetry(): void {
    if (this.stopped || this.missingTimer) return;
    const missing = Array.from(this.referenced()).filter((id) => !this.options.store.has(id) && !this.definitive.has(id));
    if (missing.length === 0) {
      this.missingBackoff.reset();
      return;
    }
    const wait = this.missingBackoff.next();
    this.options.logger.debug(`cohorts ${missing.join(', ')} not loaded; retrying in ${wait} ms`);
    this.missingTimer = setTimeout(() => {
      this.missingTimer = undefined;
      const ids = Array.from(this.referenced()).filter((id) => !this.options.store.has(id) && !this.definitive.has(id));
      void this.loadMissing(ids).then(() => {
        const loaded = new Set(ids.filter((id) => this.options.store.has(id)));
        if (loaded.size > 0) this.onChange(loaded);
        this.scheduleMissingRetry();
      });
    }, wait);
    this.missingTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.missingTimer) clearTimeout(this.missingTimer);
    this.pollTimer = undefined;
    this.missingTimer = undefined;
    this.abort.abort(new Error('client stopped'));
    for (const wake of this.waiting.splice(0)) wake();
    this.memory.stop();
  }

  /** One cohort, deduplicated by (id, lastModified) while in flight. */
  download(cohortId: string, lastModified: number | undefined): Promise<CohortOutcome> {
    const key = `${cohortId}_${lastModified ? lastModified : ''}`;
    let promise = this.inFlight.get(key);
    if (!promise) {
      promise = this.withSlot(() => this.downloadWithRetries(cohortId, lastModified))
        .then((outcome) => {
          if (outcome === 'too-large' || outcome === 'rejected') this.definitive.add(cohortId);
          else if (outcome === 'loaded' || outcome === 'unchanged') this.definitive.delete(cohortId);
          return outcome;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, promise);
    }
    return promise;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= COHORT_CONCURRENCY && !this.stopped) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async downloadWithRetries(cohortId: string, lastModified: number | undefined): Promise<CohortOutcome> {
    const backoff = new Backoff(this.options.retryBackoff ?? COHORT_RETRY_BACKOFF);
    const logger = this.options.logger;
    let lastError: unknown;
    for (let attempt = 0; attempt < COHORT_ATTEMPTS; attempt++) {
      if (this.stopped) return 'stopped';
      try {
        return await this.downloadOnce(cohortId, lastModified);
      } catch (err) {
        if (this.stopped) return 'stopped';
        if (err instanceof CohortTooLargeError) {
          this.metrics.onCohortDownloadFailure(cohortId, err);
          logger.error(`cohort ${cohortId} is not loaded: ${err.message}`);
          return 'too-large';
        }
        if (err instanceof FetchError && err.statusCode !== undefined && !isRetryableStatus(err.statusCode)) {
          const hint =
            err.statusCode === 401 || err.statusCode === 403
              ? ' (check cohortSyncConfig apiKey and secretKey: the project API and secret keys)'
              : '';
          this.metrics.onCohortDownloadFailure(cohortId, err);
          logger.error(`cohort ${cohortId} download rejected with status ${err.statusCode}${hint}`);
          return 'rejected';
        }
        lastError = err;
      }
      if (attempt === COHORT_ATTEMPTS - 1) break;
      const wait = backoff.next();
      logger.debug(`cohort ${cohortId} download failed (${errorMessage(lastError)}); retrying in ${wait} ms`);
      try {
        await sleep(wait, { signal: this.abort.signal });
      } catch {
        return 'stopped';
      }
    }
    this.metrics.onCohortDownloadFailure(cohortId, lastError);
    const kept = this.options.store.has(cohortId) ? '; keeping the loaded members' : '';
    logger.error(`cohort ${cohortId} download failed after ${COHORT_ATTEMPTS} attempts: ${errorMessage(lastError)}${kept}`);
    return 'failed';
  }

  /** One download: from the evaluation proxy first when there is one, from cohortServerUrl if the proxy fails. */
  private async downloadOnce(cohortId: string, lastModified: number | undefined): Promise<CohortOutcome> {
    const proxy = this.proxy;
    if (proxy === undefined) return this.downloadFrom(this.origin, this.basePath, cohortId, lastModified);
    try {
      const outcome = await this.downloadFrom(proxy.origin, proxy.path, cohortId, lastModified);
      if (this.proxyFailing) {
        this.proxyFailing = false;
        this.options.logger.info('cohorts from the evaluation proxy are served again');
      }
      return outcome;
    } catch (err) {
      if (this.stopped || err instanceof CohortTooLargeError) throw err;
      if (!this.proxyFailing) {
        this.proxyFailing = true;
        this.options.logger.warn(
          `cohort ${cohortId} from the evaluation proxy failed (${errorMessage(err)}); downloading cohorts from Amplitude until it answers`,
        );
      }
      return this.downloadFrom(this.origin, this.basePath, cohortId, lastModified);
    }
  }

  private async downloadFrom(
    origin: string,
    basePath: string,
    cohortId: string,
    lastModified: number | undefined,
  ): Promise<CohortOutcome> {
    let path = `${basePath}/${encodeURIComponent(cohortId)}?maxCohortSize=${this.options.maxCohortSize}`;
    if (lastModified) path += `&lastModified=${lastModified}`;
    const timeout = this.options.requestTimeoutMillis ?? COHORT_REQUEST_TIMEOUT_MILLIS;
    const deadline = Date.now() + timeout;
    const response = await this.options.http.stream({
      origin,
      path,
      method: 'GET',
      headers: sdkHeaders(this.authorization),
      timeoutMillis: timeout,
      signal: this.abort.signal,
    });
    if (response.status !== 200) {
      response.abort();
      if (response.status === 204) return 'unchanged';
      if (response.status === 413) {
        throw new CohortTooLargeError(`cohort is larger than maxCohortSize ${this.options.maxCohortSize} (status 413)`);
      }
      throw new FetchError(response.status, `cohort request failed: status=${response.status}`);
    }
    let body = await readBody(response, deadline - Date.now());
    // The evaluation proxy always sends its stored gzip (Content-Encoding: gzip).
    if (response.headers['content-encoding'] === 'gzip') body = await gunzipBody(body);
    const info = await this.options.store.load(body, cohortId);
    this.options.onLoaded?.(cohortId, body, info);
    this.memory.afterLoad(body.length);
    this.metrics.onCohortDownload(info.cohortId, info.memberCount, body.length);
    this.options.logger.debug(`cohort ${info.cohortId} loaded: ${info.memberCount} members (${info.groupType})`);
    return 'loaded';
  }
}

/**
 * Read a response body within `timeoutMillis`. With a content-length the
 * bytes go straight into one buffer of that size as they arrive (no
 * concatenation of a large body at the end: that copy would block the event
 * loop for tens of milliseconds on a 40 MB cohort).
 */
async function readBody(response: HttpStream, timeoutMillis: number): Promise<Buffer> {
  const timer = setTimeout(
    () => response.abort(new FetchError(undefined, 'cohort response body timed out', { code: 'TIMEOUT' })),
    Math.max(1, timeoutMillis),
  );
  timer.unref();
  const header = response.headers['content-length'];
  const expected = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : -1;
  try {
    if (expected >= 0 && expected <= 0x7fffffff) {
      const buffer = Buffer.allocUnsafeSlow(expected);
      let offset = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (offset + chunk.length > expected)
          throw new FetchError(undefined, 'cohort response longer than its content-length', { code: 'INVALID_RESPONSE' });
        chunk.copy(buffer, offset);
        offset += chunk.length;
      }
      if (offset !== expected)
        throw new FetchError(undefined, 'cohort response shorter than its content-length', { code: 'NETWORK' });
      return buffer;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(undefined, `cohort response failed: ${errorMessage(err)}`, {
      code: 'NETWORK',
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

function gunzipBody(body: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    zlib().gunzip(body, (err, out) => {
      if (err)
        reject(
          new FetchError(200, `cohort response is not valid gzip: ${errorMessage(err)}`, {
            code: 'INVALID_RESPONSE',
            cause: err,
          }),
        );
      else resolve(out);
    });
  });
}

export class CohortTooLargeError extends Error {
  override readonly name = 'CohortTooLargeError';
}
