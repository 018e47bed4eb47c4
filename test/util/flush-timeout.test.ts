import { describe, expect, it } from 'vitest';
import { DEFAULT_FLUSH_TIMEOUT_MILLIS, flushTimeoutOf, settledWithin } from '../../src/util/flush-timeout';

describe('flush timeouts', () => {
  it('takes a number >= 0 as given, Infinity as no limit, and anything else as the default', () => {
    expect(flushTimeoutOf(0)).toBe(0);
    expect(flushTimeoutOf(250)).toBe(250);
    expect(flushTimeoutOf(Infinity)).toBe(Infinity);
    for (const odd of [undefined, NaN, -1, -Infinity]) expect(flushTimeoutOf(odd)).toBe(DEFAULT_FLUSH_TIMEOUT_MILLIS);
  });

  it('settledWithin: true when the work settles (a rejection included), false when the time runs out first', async () => {
    expect(await settledWithin(Promise.resolve('done'), 1000)).toBe(true);
    expect(await settledWithin(Promise.reject(new Error('failed')), 1000)).toBe(true);
    expect(await settledWithin(new Promise(() => undefined), 1)).toBe(false);
    // Infinity waits for the work (no timer: one past 2^31-1 ms would fire at once with a warning).
    let finish: () => void = () => undefined;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const waiting = settledWithin(work, Infinity);
    finish();
    expect(await waiting).toBe(true);
  });
});
