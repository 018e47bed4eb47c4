/** The wrapper around a user's logger: whatever the logger does, logging never throws and never leaves a rejection. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type LoggerProvider } from '../../src/util/logger';
import { afterThisTurn } from '../support';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => void process.off('unhandledRejection', onUnhandled));

describe('a user logger', () => {
  it('whose methods return a rejected promise (an async logger whose sink is down) leaves no unhandled rejection', async () => {
    let calls = 0;
    const down = async (): Promise<void> => {
      calls++;
      await Promise.resolve();
      throw new Error('sink down');
    };
    // Typed as the void methods a LoggerProvider declares: a JavaScript user's async logger fits it at run time.
    const sink = down as () => void;
    const logger = createLogger({ logger: { debug: sink, info: sink, warn: sink, error: sink } });
    logger.error('first');
    logger.warn('second');
    await afterThisTurn(); // unhandled rejections are reported once the microtask queue drains
    expect(unhandled).toEqual([]);
    // Its failure is not reported through the same logger (that would loop).
    expect(calls).toBe(2);
  });

  it('whose method getter throws is skipped without throwing', () => {
    let ready = false;
    const lines: string[] = [];
    const provider = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m: string) => void lines.push(m),
      get error(): LoggerProvider['error'] {
        if (ready) throw new Error('getter bug');
        return () => undefined;
      },
    };
    const logger = createLogger({ logger: provider });
    ready = true;
    expect(() => logger.error('lost')).not.toThrow();
    logger.warn('kept');
    expect(lines).toEqual(['[Experiment] kept']);
  });

  it('whose method throws synchronously is skipped without throwing', () => {
    const logger = createLogger({
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => {
          throw Object.create(null);
        },
      },
    });
    expect(() => logger.error('lost')).not.toThrow();
  });
});
