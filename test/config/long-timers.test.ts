/**
 * Millisecond options above setTimeout's longest delay (2^31-1 ms, about 24.8 days) are clamped to it: unclamped,
 * Node fires such a timer after 1 ms, so a 30-day polling interval polled in a loop and a long start or fetch
 * time-out expired at once. The clocks are vitest's fake timers (which overflow the same way), moved by the test.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RemoteEvaluationClient } from '../../src/remote/client';
import {
  API_KEY,
  stateAfterThisTurn,
  capturingLogger,
  flag,
  guardUnhandledRejections,
  localClient,
  track,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

const server = useLocalServer({ flags: [flag('a')], apiKeys: [API_KEY] });
const DAY = 24 * 60 * 60 * 1000;
const CLAMPED = 'must be at most 2147483647 (about 24.8 days';

afterEach(() => {
  vi.useRealTimers();
});

/** One HTTP round trip to the server: real I/O that lets a request the client started in the meantime arrive. */
function roundTrip(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/not-a-route`, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('millisecond options longer than a timer can wait', () => {
  it('flagConfigPollingIntervalMillis of 30 days: no request storm, a warning', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger, flagConfigPollingIntervalMillis: 30 * DAY });
    await c.start();
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      await roundTrip();
    }
    expect(server.requests('flags')).toHaveLength(1);
    expect(logger.count('warn', `config.flagConfigPollingIntervalMillis ${CLAMPED}`)).toBe(1);
  });

  it('startTimeoutMillis of 3e9: start() does not time out at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    server.injectFaults('flags', { hang: true });
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger, startTimeoutMillis: 3e9 });
    const started = c.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await stateAfterThisTurn(started)).toBe('pending');
    expect(logger.count('warn', `config.startTimeoutMillis ${CLAMPED}`)).toBe(1);
    await c.close();
    await expect(started).rejects.toThrow();
  });

  it('fetchTimeoutMillis of 3e9: fetchV2 does not time out at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    server.injectFaults('vardata', { hang: true });
    const logger = capturingLogger();
    const c = track(new RemoteEvaluationClient(API_KEY, { serverUrl: server.url, logger, fetchTimeoutMillis: 3e9 }));
    const fetched = c.fetchV2({ user_id: 'u' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await stateAfterThisTurn(fetched)).toBe('pending');
    expect(logger.count('warn', `config.fetchTimeoutMillis ${CLAMPED}`)).toBe(1);
    await c.close();
    await expect(fetched).rejects.toThrow();
  });
});
