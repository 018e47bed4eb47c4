import { MAX_TIMER_MILLIS } from '../config/common';

/** close() waits at most this long, by default, for what it flushes (tracking events, a user's FlagConfigCache). */
export const DEFAULT_FLUSH_TIMEOUT_MILLIS = 10_000;

/**
 * The wait a `flushTimeoutMillis` option asks for: the default when it is not a number >= 0, Infinity (no limit)
 * as is.
 */
export function flushTimeoutOf(timeoutMillis: number | undefined): number {
  return typeof timeoutMillis === 'number' && timeoutMillis >= 0 ? timeoutMillis : DEFAULT_FLUSH_TIMEOUT_MILLIS;
}

/**
 * Whether `work` settled (resolved or rejected) within `timeoutMillis` (flushTimeoutOf; Infinity: waits for it).
 * Never rejects. The timer is unref'd, so a wait on work that never settles does not keep the process alive, and
 * cleared as soon as the work settles.
 */
export async function settledWithin(work: Promise<unknown>, timeoutMillis: number | undefined): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  const ms = flushTimeoutOf(timeoutMillis);
  if (ms === Infinity) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.min(ms, MAX_TIMER_MILLIS));
    timer.unref();
  });
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
