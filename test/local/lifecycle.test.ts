import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { createLocalServer, type Fault, type LocalServer, type LocalServerOptions } from '../../src/dev-server';
import { initializeLocal } from '../../src/local/factory';
import { LocalEvaluationClient } from '../../src/local/client';
import { type FlagConfigCache, InMemoryFlagConfigCache } from '../../src/local/compat/cache';
import { TestData } from '../../src/testing/test-data';
import type { FlagDataSource } from '../../src/local/data-source';
import { FlagPoller, pollFailureBackoff } from '../../src/local/flag-poller';
import { HttpClient } from '../../src/util/http';
import { createLogger } from '../../src/util/logger';
import { baseDelay } from '../../src/util/backoff';
import { runNodeScript } from '../support/child';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  FAST_POLLING,
  flag,
  guardUnhandledRejections,
  localClient,
  track,
  sleep,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

const SERVER: LocalServerOptions = {
  flags: [flag('a')],
  apiKeys: [API_KEY],
  cohorts: [{ cohortId: 'c1', memberIds: ['u1'] }],
};

describe('start()', () => {
  const server = useLocalServer(SERVER);
  it('rejects after startTimeoutMillis when the flag server hangs', async () => {
    server.injectFaults('flags', { hang: true, times: Infinity });
    const c = localClient({ serverUrl: server.url, startTimeoutMillis: 300, logger: capturingLogger() });
    await expect(c.start()).rejects.toThrow(/timed out after 300 ms/);
  });

  it('rejects after startTimeoutMillis when a cohort download hangs', async () => {
    server.setFlags([cohortFlag('f', 'c1')]);
    server.injectFaults('cohort', { hang: true, times: Infinity });
    const c = localClient({
      serverUrl: server.url,
      startTimeoutMillis: 300,
      cohortSyncConfig: { apiKey: 'a', secretKey: 's', cohortServerUrl: server.url },
      logger: capturingLogger(),
    });
    await expect(c.start()).rejects.toThrow(/timed out after 300 ms/);
  });

  it.each([401, 403])('rejects at once and clearly on %i', async (status) => {
    server.injectFaults('flags', { status, times: Infinity });
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() });
    await expect(c.start()).rejects.toThrow(new RegExp(`status ${status}.*deployment key`));
    expect(server.requests('flags')).toHaveLength(1);
  });

  it('retries a failing first fetch and resolves when the server recovers', async () => {
    server.injectFaults('flags', { status: 503 }, { reset: true }, { status: 200, body: '[{"garbage"' });
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() }, FAST_POLLING);
    await c.start();
    expect(c.flagKeys()).toEqual(['a']);
    expect(server.requests('flags')).toHaveLength(4);
  });

  it('stop() while start() is waiting aborts the request; start() then starts again; close() is final', async () => {
    server.injectFaults('flags', { hang: true });
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() });
    const started = c.start();
    await server.waitForRequests('flags', 1);
    c.stop();
    await expect(started).rejects.toThrow();
    expect(c.hasFlags).toBe(false);
    await c.start();
    expect(c.flagKeys()).toEqual(['a']);
    await c.close();
    await expect(c.start()).rejects.toThrow(/closed/);
  });

  it('Experiment.initializeLocal hands out one client per key until it is closed, then a new one', async () => {
    const config = { serverUrl: server.url, logger: capturingLogger(), instanceName: 'lifecycle-factory' };
    const a = initializeLocal(API_KEY, config);
    expect(initializeLocal(API_KEY, config)).toBe(a);
    track(a);
    await a.start();
    expect(a.isClosed).toBe(false);
    await a.close();
    expect(a.isClosed).toBe(true);
    const b = track(initializeLocal(API_KEY, config));
    expect(b).not.toBe(a);
    await b.start();
    expect(b.flagKeys()).toEqual(['a']);
  });
});

describe('close()', () => {
  it("returns within flushTimeoutMillis when the constructor's FlagConfigCache never settles, and logs it", async () => {
    const logger = capturingLogger();
    const hung = (): Promise<void> => new Promise<void>(() => undefined);
    const store = new InMemoryFlagConfigCache();
    const neverSettles: FlagConfigCache = {
      get: (k) => store.get(k),
      getAll: () => store.getAll(),
      put: hung,
      putAll: hung,
      delete: hung,
      clear: hung,
    };
    const td = new TestData();
    td.update(td.flag('x').booleanFlag());
    const c = track(new LocalEvaluationClient(API_KEY, { dataSource: td, logger }, neverSettles), (client) =>
      client.close({ flushTimeoutMillis: 50 }),
    );
    await c.start();
    let closed = false;
    void c.close({ flushTimeoutMillis: 50 }).then(() => (closed = true));
    await eventually(() => closed, 2000, 'close()');
    expect(c.status().state).toBe('closed');
    expect(logger.count('error', /FlagConfigCache given to the client did not take the last flag update within 50 ms/)).toBe(1);
  });
});

describe('a user dataSource', () => {
  const payload = JSON.stringify([flag('a')]);

  it('may return an RxJS-style subscription: stop() calls its unsubscribe()', async () => {
    const logger = capturingLogger();
    let unsubscribed = 0;
    const subscription = {
      unsubscribe(this: unknown) {
        expect(this).toBe(subscription);
        unsubscribed++;
      },
    };
    const c = localClient({
      dataSource: {
        // (the declared type is a function; what is tested is a JavaScript caller, or a cast, returning a subscription)
        subscribe: ((listener: (payload: string) => void) => {
          listener(payload);
          return subscription;
        }) as unknown as FlagDataSource['subscribe'],
      },
      logger,
    });
    await c.start();
    expect(c.flagKeys()).toEqual(['a']);
    c.stop();
    expect(unsubscribed).toBe(1);
    expect(c.status().state).toBe('closed');
    expect(logger.count('error', /./)).toBe(0);
  });

  it('returning something else is logged; stop() and close() still work', async () => {
    const logger = capturingLogger();
    const c = localClient({ dataSource: { subscribe: () => 42 as unknown as () => void }, logger });
    expect(logger.count('error', /subscribe\(\) must return a function or an object with an unsubscribe\(\) method/)).toBe(1);
    await c.start();
    c.stop();
    await expect(c.close()).resolves.toBeUndefined();
    expect(c.status().state).toBe('closed');
  });

  it('whose unsubscribe throws: stop() and close() log it and still shut everything down', async () => {
    const logger = capturingLogger();
    const c = localClient({
      dataSource: {
        subscribe: () => () => {
          throw new Error('unsubscribe bug');
        },
      },
      logger,
    });
    await c.start();
    expect(() => c.stop()).not.toThrow();
    expect(c.status().state).toBe('closed');
    expect(logger.count('error', /unsubscrib.*unsubscribe bug/)).toBe(1);
    await expect(c.close()).resolves.toBeUndefined();
  });

  it('an async unsubscribe that rejects is logged, not an unhandled rejection', async () => {
    const logger = capturingLogger();
    const c = localClient({
      dataSource: {
        subscribe: () => async () => {
          await Promise.resolve();
          throw new Error('async unsubscribe bug');
        },
      },
      logger,
    });
    await c.close();
    await eventually(() => logger.count('error', /unsubscrib.*async unsubscribe bug/) === 1);
  });

  it('whose subscribe throws on a restart: start() returns a rejected promise', async () => {
    const logger = capturingLogger();
    let calls = 0;
    const c = localClient({
      dataSource: {
        subscribe: (listener) => {
          if (++calls > 1) throw new Error('subscribe bug');
          listener(payload);
          return () => undefined;
        },
      },
      logger,
    });
    await c.start();
    c.stop();
    let started: Promise<void> | undefined;
    expect(() => (started = c.start())).not.toThrow();
    await expect(started).rejects.toThrow('subscribe bug');
    expect(logger.count('error', /start\(\) failed: subscribe bug/)).toBe(1);
    expect(c.flagKeys()).toEqual(['a']); // the flags in force stay
    await expect(c.close()).resolves.toBeUndefined();
    expect(c.status().state).toBe('closed');
  });
});

describe('polling under faults', () => {
  const server = useLocalServer(SERVER);
  it('keeps serving the last good flags through every fault and recovers', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, flagConfigPollerRequestTimeoutMillis: 300, logger }, FAST_POLLING);
    await c.start();
    const faults: Fault[] = [
      { status: 500 },
      { status: 429 },
      { status: 404 },
      { reset: true },
      { hang: true },
      { slowBodyMs: 1000 }, // cut off by the 300 ms request timeout
      { truncate: true },
      { status: 200, body: 'not json' },
      { status: 200, body: '{"not":"an array"}' },
    ];
    server.injectFaults('flags', ...faults);
    server.setFlags([flag('a'), flag('b')]);
    const before = server.requests('flags').length;
    while (server.pendingFaults('flags') > 0) {
      expect(c.flagKeys()).toEqual(['a']);
      expect(c.evaluateV2({}).a.key).toBe('on');
      await sleep(5);
    }
    await eventually(() => c.flagKeys().includes('b'), 5000, 'recovery');
    expect(server.requests('flags').length - before).toBe(faults.length + 1);
    expect(logger.count('warn', 'flag poll failed')).toBeGreaterThanOrEqual(7);
  });

  it('a poll failing with a value that is not an Error is logged, and polling goes on', async ({ onTestFinished }) => {
    const logger = capturingLogger();
    const http = new HttpClient();
    let payloads = 0;
    const poller = new FlagPoller({
      apiKey: API_KEY,
      serverUrl: server.url,
      pollingIntervalMillis: 10,
      failureBackoff: { minMillis: 10, maxMillis: 10, scalar: 1 },
      requestTimeoutMillis: 5_000,
      http,
      logger: createLogger({ logger }),
      onPayload: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what is tested: a failure that is not an Error
        if (++payloads === 1) throw null;
        return true;
      },
    });
    onTestFinished(async () => {
      poller.stop();
      await http.close();
    });
    poller.startPolling();
    await eventually(() => payloads >= 2, 5_000, 'a poll after the failed one');
    expect(logger.count('warn', /flag poll failed: null; next try in 10 ms/)).toBe(1);
  });

  it('a failing flag server is polled at most once per backoff delay', async () => {
    const logger = capturingLogger();
    const failureBackoff = { minMillis: 20, maxMillis: 80, scalar: 2, jitter: 0 };
    const c = localClient({ serverUrl: server.url, logger }, { flagPolling: { intervalMillis: 20, failureBackoff } });
    await c.start();
    server.injectFaults('flags', { status: 500, times: Infinity });
    const before = server.requests('flags').length;
    await eventually(() => server.requests('flags').length - before >= 5, 10_000, 'failed polls');
    const delays = logger.lines
      .map((l) => /flag poll failed.*next try in (\d+) ms/.exec(l.message)?.[1])
      .filter((d) => d !== undefined)
      .map(Number);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    // Each request waited at least the delay announced after the previous failure.
    const times = server
      .requests('flags')
      .slice(before)
      .map((r) => r.time);
    for (let i = 1; i < 4; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(delays[i - 1] - 1);
  });

  it('by default a failing server is polled no faster than the polling interval (from 1 s, doubling)', () => {
    expect([0, 1, 5].map((n) => baseDelay(pollFailureBackoff(1000), n))).toEqual([1000, 1000, 1000]);
    expect([0, 1, 2, 5, 6].map((n) => baseDelay(pollFailureBackoff(30_000), n))).toEqual([1000, 2000, 4000, 30_000, 30_000]);
  });

  it('close() stops polling', async () => {
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() }, FAST_POLLING);
    await c.start();
    await c.close();
    const n = server.requests('flags').length;
    await sleep(200); // ten polling intervals
    expect(server.requests('flags').length).toBe(n);
    expect(c.evaluateV2({}).a.key).toBe('on'); // still evaluates on the last flags
  });
});

// ---- process lifetime: compiled client in a child process ----

const root = join(__dirname, '..', '..');
const distClient = join(root, 'dist', 'cjs', 'local', 'client.js');

const runChild = (script: string, timeoutMillis: number) =>
  runNodeScript(script, { timeoutMillis, cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

// Each test runs a child process against a server of its own: side by side, their start-ups and waits overlap.
describe.concurrent('process lifetime', () => {
  async function ownServer(onTestFinished: TestContext['onTestFinished']): Promise<LocalServer> {
    const server = await createLocalServer(SERVER);
    onTestFinished(() => server.close());
    return server;
  }

  it('a started client (streaming, polling, cohorts) does not keep the process alive', async ({ expect, onTestFinished }) => {
    const server = await ownServer(onTestFinished);
    server.setFlags([flag('a'), cohortFlag('f', 'c1')]);
    const script = `
      const { LocalEvaluationClient } = require(${JSON.stringify(distClient)});
      const url = ${JSON.stringify(server.url)};
      const c = new LocalEvaluationClient(${JSON.stringify(API_KEY)}, {
        serverUrl: url, streamUpdates: true, streamServerUrl: url, flagConfigPollingIntervalMillis: 1000,
        cohortSyncConfig: { apiKey: 'a', secretKey: 's', cohortServerUrl: url },
      });
      c.start().then(() => {
        console.log('started', JSON.stringify(c.evaluateV2({ user_id: 'u1' }, ['f'])));
      }, (e) => { console.log('start failed', e.message); process.exitCode = 3; });
    `;
    const r = await runChild(script, 20_000);
    expect(r.killed, r.out).toBe(false);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('started {"f":{"key":"on"');
    expect(server.requests('stream').length).toBe(1);
  }, 30_000);

  it('await start() in a script is not cut short while flags are slow to arrive', async ({ expect, onTestFinished }) => {
    const server = await ownServer(onTestFinished);
    server.injectFaults('flags', { delayMs: 300 }); // any delay: an unref'd request would let the process exit at once
    const script = `
      const { LocalEvaluationClient } = require(${JSON.stringify(distClient)});
      const c = new LocalEvaluationClient(${JSON.stringify(API_KEY)}, { serverUrl: ${JSON.stringify(server.url)} });
      (async () => { await c.start(); console.log('keys', c.flagKeys().join(',')); })();
    `;
    const r = await runChild(script, 20_000);
    expect(r.killed, r.out).toBe(false);
    expect(r.out).toContain('keys a');
    expect(r.code, r.out).toBe(0);
  }, 30_000);
});
