/** Mistakes a new user makes, visible at the default log level (Error) and fast. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { capturingLogger, flag, guardUnhandledRejections, localClient } from '../support';

guardUnhandledRejections();

/** A port on 127.0.0.1 where nothing listens (bound once, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('serverUrl pointing at a closed port', () => {
  it.each([false, true])(
    'start() rejects with the reason, not the start timeout (streamUpdates %s), logged at error',
    async (streamUpdates) => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const logger = capturingLogger();
      // loggerProvider keeps the SDK's default level (Error): what a new user sees.
      const c = localClient({
        serverUrl: url,
        streamServerUrl: url,
        streamUpdates,
        startTimeoutMillis: 60_000,
        loggerProvider: logger,
      });
      const err = await c.start().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(
        new RegExp(`flags cannot be fetched from ${url}: nothing accepts connections there .*ECONNREFUSED.*check serverUrl`),
      );
      expect(err?.message).not.toMatch(/timed out/);
      expect(logger.count('error', 'ECONNREFUSED')).toBeGreaterThanOrEqual(1);
      expect(c.status()).toMatchObject({ state: 'error', flagCount: 0 });
    },
  );
});

describe('evaluateV2 with one flag key as a string', () => {
  it('evaluates that flag, says so once at error level', () => {
    const logger = capturingLogger();
    const c = localClient({ bootstrap: [flag('my-flag'), flag('other', 'off')], loggerProvider: logger });
    const bad = 'my-flag' as unknown as string[];
    expect(Object.keys(c.evaluateV2({ user_id: 'u' }, bad))).toEqual(['my-flag']);
    expect(c.evaluateV2({ user_id: 'u' }, bad)['my-flag'].key).toBe('on');
    expect(Object.keys(c.evaluateV2Details({ user_id: 'u' }, bad))).toEqual(['my-flag']);
    expect(
      logger.count('error', /flagKeys must be an array of flag keys; got the string "my-flag", evaluated as \["my-flag"\]/),
    ).toBe(1);
  });

  it('another type evaluates no flag (said once); null means all flags', () => {
    const logger = capturingLogger();
    const c = localClient({ bootstrap: [flag('my-flag'), flag('other', 'off')], loggerProvider: logger });
    expect(c.evaluateV2({ user_id: 'u' }, new Set(['my-flag']) as unknown as string[])).toEqual({});
    expect(logger.count('error', /got a Set \(use Array.from\(set\)\), no flag evaluated/)).toBe(1);
    expect(Object.keys(c.evaluateV2({ user_id: 'u' }, null as unknown as string[])).sort()).toEqual(['my-flag', 'other']);
  });
});

describe('evaluateV2 before start()', () => {
  it('returns {} and says once, at error level, what to do', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: `http://127.0.0.1:${await closedPort()}`, loggerProvider: logger });
    expect(c.evaluateV2({ user_id: 'u' })).toEqual({});
    expect(c.evaluateV2({ user_id: 'u' }, ['a'])).toEqual({});
    expect(logger.count('error', 'evaluateV2 called before any flags were loaded (call and await start()')).toBe(1);
  });
});
