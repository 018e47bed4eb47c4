/**
 * The project's one retry policy: which failures are worth another attempt.
 * Every path that retries (remote fetch, flag poll, stream reconnect, cohort
 * download) asks here, so they cannot disagree; how long to wait is
 * src/util/backoff's job.
 *
 * A status means "try again later" when the server or something between us
 * failed (5xx, except 501: the server does not implement the request and
 * will not start to), or when it says so: 408 Request Timeout and 429 Too
 * Many Requests. Any other 4xx is the request's fault (bad key, wrong URL,
 * too large): repeating it gets the same answer, so it is permanent.
 * A transport failure (timeout, refused, reset, bad body) is retried; an
 * abort or a closed client is not (the caller asked to stop). The stream
 * is the one background loop that keeps reconnecting after a permanent
 * answer (with backoff, polling meanwhile): polling works with the same key,
 * so a refused stream is the stream side's problem and may end.
 */
import { FetchError } from './http';

/** 4xx statuses that say "later", not "never". */
export const RETRYABLE_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 429]);
/** 5xx statuses that say "never". */
export const PERMANENT_SERVER_STATUSES: ReadonlySet<number> = new Set([501]);

/** True when an HTTP status is worth retrying (see the module comment). */
export function isRetryableStatus(status: number): boolean {
  if (status >= 400 && status < 500) return RETRYABLE_CLIENT_STATUSES.has(status);
  if (status >= 500) return !PERMANENT_SERVER_STATUSES.has(status);
  return true; // 1xx/3xx where a 200 was expected: a proxy or redirect problem that may pass
}

/** The HTTP status an error carries (FetchError, StreamError, or anything with a numeric statusCode). */
function statusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** True when another attempt could succeed: a retryable status, or a transport failure that is not an abort. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof FetchError && (error.code === 'CLOSED' || error.code === 'ABORTED')) return false;
  const status = statusOf(error);
  return status === undefined || isRetryableStatus(status);
}

/** A response that retrying will not fix (bad key, wrong URL, not implemented). */
export function isPermanentFailure(error: unknown): boolean {
  const status = statusOf(error);
  return status !== undefined && !isRetryableStatus(status);
}
