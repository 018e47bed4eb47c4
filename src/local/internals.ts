/**
 * Test-only knobs: timings that are minutes in production (stream
 * keep-alive and reconnect, cohort polling's 60 s minimum, flag polling's
 * 1 s minimum and its backoff) made short so
 * tests can exercise them. Set under this symbol on the config object; it is
 * not a documented option and resolveLocalConfig never sees it.
 */
import type { BackoffOptions } from '../util/backoff';
import type { StreamTimings } from './stream';
import type { AnalyticsFactory } from './exposure';

export const LOCAL_CLIENT_INTERNALS: unique symbol = Symbol.for('amplitude-experiment-native.localClientInternals');

export interface LocalClientInternals {
  stream?: StreamTimings;
  /** Flag polling: the interval (replaces the clamped flagConfigPollingIntervalMillis) and its backoffs. */
  flagPolling?: { intervalMillis?: number; failureBackoff?: BackoffOptions; initialBackoff?: BackoffOptions };
  /** Replaces the (clamped) cohortPollingIntervalMillis. */
  cohortPollingIntervalMillis?: number;
  cohortRetryBackoff?: BackoffOptions;
  cohortMissingRetryBackoff?: BackoffOptions;
  cohortRequestTimeoutMillis?: number;
  /** Force the cohort store implementation. */
  cohortStore?: 'native' | 'js';
  analyticsFactory?: AnalyticsFactory;
  membershipRequestTimeoutMillis?: number;
  /** Clock for the memberships cache TTL and failure backoff. */
  membershipClock?: { now(): number };
  /** Replaces the primary source's stale period (status). */
  staleAfterMillis?: number;
}

export function internalsOf(config: object | undefined): LocalClientInternals {
  if (!config) return {};
  const value = (config as { [LOCAL_CLIENT_INTERNALS]?: LocalClientInternals })[LOCAL_CLIENT_INTERNALS];
  return value && typeof value === 'object' ? value : {};
}
