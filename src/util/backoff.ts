/**
 * The project's one backoff helper. Every retry path (remote fetch, flag
 * polling, stream reconnect, cohort download) computes its delays here and
 * waits with `sleep`, so the schedule is the same everywhere and can be
 * tested in one place.
 *
 * Schedule: delay(n) = min(max, min × scalar^n), then jittered upwards by at
 * most `jitter` × that value, and never above `max`. Jitter therefore never
 * shortens the documented schedule and never exceeds the cap. No delay is ever
 * below MIN_DELAY_MILLIS, so no caller can spin in a zero-delay loop.
 */

/** Floor for every computed delay, whatever the options say. */
export const MIN_DELAY_MILLIS = 1;

/** Default jitter: up to +10% of the computed delay (still capped at max). */
export const DEFAULT_JITTER = 0.1;

export interface BackoffOptions {
  /** First delay, in ms (floored at MIN_DELAY_MILLIS). */
  minMillis: number;
  /** Cap for every delay, in ms (raised to minMillis if below it). */
  maxMillis: number;
  /** Growth factor per attempt; values below 1 are treated as 1. */
  scalar: number;
  /** Jitter fraction in [0, 1]; the delay grows by up to this fraction. Default 0.1. */
  jitter?: number;
  /** Random source in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
}

interface Normalized {
  min: number;
  max: number;
  scalar: number;
  jitter: number;
  random: () => number;
}

function finiteOr(value: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function normalize(options: BackoffOptions): Normalized {
  const min = Math.max(MIN_DELAY_MILLIS, finiteOr(options.minMillis, MIN_DELAY_MILLIS));
  const max = Math.max(min, finiteOr(options.maxMillis, min));
  const scalar = Math.max(1, finiteOr(options.scalar, 1));
  const jitter = Math.min(1, Math.max(0, finiteOr(options.jitter ?? DEFAULT_JITTER, DEFAULT_JITTER)));
  return { min, max, scalar, jitter, random: options.random ?? Math.random };
}

function computeDelay(n: Normalized, attempt: number): number {
  const a = Math.max(0, Math.floor(finiteOr(attempt, 0)));
  // min × scalar^a can overflow to Infinity for large attempts; min() caps it.
  const base = Math.min(n.max, n.min * Math.pow(n.scalar, a));
  let r = n.random();
  if (!(r >= 0)) r = 0; // NaN or negative from a bad random source
  if (r > 1) r = 1;
  const jittered = base + base * n.jitter * r;
  return Math.min(n.max, Math.max(base, jittered));
}

/** The un-jittered delay for 0-based `attempt`: min(max, min × scalar^attempt). */
export function baseDelay(options: BackoffOptions, attempt: number): number {
  const n = normalize(options);
  return Math.min(n.max, n.min * Math.pow(n.scalar, Math.max(0, Math.floor(finiteOr(attempt, 0)))));
}

/** The jittered delay for 0-based `attempt`; in [baseDelay, min(max, baseDelay × (1 + jitter))]. */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  return computeDelay(normalize(options), attempt);
}

/**
 * Stateful schedule for a retry loop: `next()` returns the delay for the
 * current attempt and advances; `reset()` after a success.
 */
export class Backoff {
  private readonly n: Normalized;
  private attemptCount = 0;

  constructor(options: BackoffOptions) {
    this.n = normalize(options);
  }

  /** Number of delays handed out since construction or the last reset. */
  get attempt(): number {
    return this.attemptCount;
  }

  /** Delay for the given 0-based attempt, without changing state. */
  delay(attempt: number): number {
    return computeDelay(this.n, attempt);
  }

  /** Delay for the current attempt; advances to the next. */
  next(): number {
    const d = computeDelay(this.n, this.attemptCount);
    this.attemptCount++;
    return d;
  }

  reset(): void {
    this.attemptCount = 0;
  }
}

export interface SleepOptions {
  /** Abort the wait: the promise rejects with `signal.reason` promptly. */
  signal?: AbortSignal;
  /**
   * Default true: the timer does not keep the process alive (background
   * work such as pollers). Pass false when a caller is awaiting the result
   * (a remote fetch retry), so a script that awaits it is not cut short.
   */
  unref?: boolean;
}

function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * Wait `ms` milliseconds. Rejects with the signal's reason as soon as the
 * signal aborts (or at once if it already has). Negative or non-finite
 * values wait 0 ms.
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal, unref = true } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const wait = Number.isFinite(ms) && ms > 0 ? ms : 0;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, wait);
    if (unref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
