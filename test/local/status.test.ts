/** When client.status() calls the flags stale: measured from their last delivery, across stop()/start(). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLocalServer } from '../../src/dev-server';
import type { ClientStatus } from '../../src/local/events';
import { StatusTracker } from '../../src/local/status';
import {
  API_KEY,
  capturingLogger,
  closeClientsAfterEach,
  eventually,
  FAST_START,
  flag,
  guardUnhandledRejections,
  localClient,
} from '../support';

guardUnhandledRejections();
closeClientsAfterEach();

/** A tracker on a clock the test moves by hand; its stale timer runs on vitest's fake timers. */
function trackerOnFakeClock(): { tracker: StatusTracker; seen: ClientStatus[]; advance: (ms: number) => void } {
  vi.useFakeTimers();
  let now = 1_000_000;
  const seen: ClientStatus[] = [];
  const tracker = new StatusTracker({ onChange: (s) => seen.push(s), now: () => now });
  const advance = (ms: number): void => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };
  return { tracker, seen, advance };
}

describe('StatusTracker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a restart does not make the flags in force fresh again: stale counts from their last delivery', () => {
    const { tracker, seen, advance } = trackerOnFakeClock();
    tracker.started(3000);
    tracker.installed('poll', 2);
    tracker.refreshed('poll');
    advance(2000);
    expect(tracker.status()).toMatchObject({ state: 'ready', stale: false });
    advance(1500);
    expect(tracker.status()).toMatchObject({ state: 'stale', stale: true });

    tracker.close();
    tracker.started(3000);
    tracker.markStartFailed();
    expect(tracker.status()).toMatchObject({ state: 'stale', stale: true, source: 'poll', flagCount: 2 });
    expect(seen.map((s) => s.state)).toEqual(['ready', 'stale', 'closed', 'stale']);

    // A delivery in the new cycle makes them fresh, and the stale period counts from it.
    tracker.refreshed('poll');
    expect(tracker.status()).toMatchObject({ state: 'ready', stale: false });
    advance(2999);
    expect(tracker.status().stale).toBe(false);
    advance(2);
    expect(seen.at(-1)).toMatchObject({ state: 'stale', stale: true });
  });

  it('flags delivered just before a restart stay fresh for the rest of their period, and the stale event still comes', () => {
    const { tracker, seen, advance } = trackerOnFakeClock();
    tracker.started(3000);
    tracker.installed('poll', 1);
    tracker.refreshed('poll');
    advance(1000);
    tracker.close();
    tracker.started(3000);
    expect(tracker.status()).toMatchObject({ state: 'ready', stale: false });
    advance(1999);
    expect(tracker.status().stale).toBe(false);
    advance(2);
    expect(seen.map((s) => s.state)).toEqual(['ready', 'closed', 'ready', 'stale']);
  });

  it('a stale period longer than a timer can wait (three 10-day polling intervals) still ends in the stale event', () => {
    // setTimeout fires a delay above 2^31-1 ms after 1 ms (the fake timers do as Node does): the timer must wait in
    // steps it can take instead.
    // (The tracker reads the faked Date here: its clock and the timers move together, as in a real process.)
    vi.useFakeTimers();
    const seen: ClientStatus[] = [];
    const tracker = new StatusTracker({ onChange: (s) => seen.push(s) });
    const advance = (ms: number): void => void vi.advanceTimersByTime(ms);
    const staleAfter = 3 * 10 * 24 * 3600 * 1000;
    tracker.started(staleAfter);
    tracker.installed('poll', 1);
    tracker.refreshed('poll');
    advance(staleAfter - 1);
    expect(seen.at(-1)).toMatchObject({ state: 'ready', stale: false });
    advance(2);
    expect(seen.at(-1)).toMatchObject({ state: 'stale', stale: true });
  });

  it('without flags, the first start is not stale (there is nothing to be stale)', () => {
    const { tracker, advance } = trackerOnFakeClock();
    tracker.started(3000);
    advance(10_000);
    expect(tracker.status()).toMatchObject({ state: 'initializing', stale: false });
  });
});

describe('client.status() after a failed restart', () => {
  it('stays stale when stop() and a start() that fails follow stale flags', async () => {
    const server = await createLocalServer({ flags: [flag('a')], apiKeys: [API_KEY] });
    const logger = capturingLogger();
    // Polling once an hour: only start() delivers; the stale period is 200 ms instead of 3 intervals.
    const c = localClient(
      { serverUrl: server.url, flagConfigPollingIntervalMillis: 3_600_000, logger },
      { ...FAST_START, staleAfterMillis: 200 },
    );
    try {
      await c.start();
      expect(c.status()).toMatchObject({ state: 'ready', stale: false, flagCount: 1 });
    } finally {
      await server.close();
    }
    await eventually(() => c.status().stale, 5000, 'stale');
    const deliveredAt = c.status().lastUpdatedAt;

    c.stop();
    expect(c.status().state).toBe('closed');
    await expect(c.start()).rejects.toThrow(/nothing accepts connections there/);
    expect(c.status()).toMatchObject({ state: 'stale', stale: true, source: 'poll', flagCount: 1, lastUpdatedAt: deliveredAt });
  });
});
