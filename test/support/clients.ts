/** SDK clients made by tests, closed after each test so no timer or socket outlives it. */
import { afterEach } from 'vitest';
import type { LocalEvaluationConfig } from '../../src/config/local';
import { LocalEvaluationClient } from '../../src/local/client';
import { LOCAL_CLIENT_INTERNALS, type LocalClientInternals } from '../../src/local/internals';
import { API_KEY } from './flags';

const FAST_INITIAL_BACKOFF = Object.freeze({ minMillis: 10, maxMillis: 40, scalar: 2 });

/** Flag polling every 20 ms, retries after 10-80 ms: for tests of polling behaviour, not of its production timings. */
export const FAST_POLLING: LocalClientInternals = Object.freeze({
  flagPolling: {
    intervalMillis: 20,
    failureBackoff: { minMillis: 20, maxMillis: 80, scalar: 2 },
    initialBackoff: FAST_INITIAL_BACKOFF,
  },
});

/**
 * start()'s first flag fetch retried after 10-40 ms instead of 250 ms and doubling, for tests of what a failing
 * start reports; polling afterwards keeps its production interval.
 */
export const FAST_START: LocalClientInternals = Object.freeze({ flagPolling: { initialBackoff: FAST_INITIAL_BACKOFF } });

const closers: Array<() => Promise<unknown>> = [];

/** Close `client` in closeClients() (after each test when the file uses useLocalServer or closeClientsAfterEach). */
export function track<T extends { close(): Promise<unknown> }>(
  client: T,
  close: (c: T) => Promise<unknown> = (c) => c.close(),
): T {
  closers.push(() => close(client));
  return client;
}

/** A local-evaluation client with test-only internals (short timings); closed by closeClients(). */
export function localClient(config: LocalEvaluationConfig, internals: LocalClientInternals = {}): LocalEvaluationClient {
  const c = new LocalEvaluationClient(API_KEY, { ...config, [LOCAL_CLIENT_INTERNALS]: internals } as LocalEvaluationConfig);
  return track(c, (client) => client.close({ flushTimeoutMillis: 500 }));
}

export async function closeClients(): Promise<void> {
  await Promise.all(closers.splice(0).map((close) => close()));
}

/** For files without useLocalServer (which closes clients itself). */
export function closeClientsAfterEach(): void {
  afterEach(closeClients);
}
