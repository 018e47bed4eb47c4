// Network faults on every path the SDK talks over, for the cells of
// docs/faults.md that the per-feature tests (test/local, test/remote,
// test/util) do not already cover. Everything runs against the local server
// on 127.0.0.1; the DNS failures use the reserved `.invalid` top-level domain,
// which the resolver fails locally (RFC 6761), so no traffic leaves the host.
import { describe, expect, it, vi } from 'vitest';
import { createLocalServer, type Fault, type LocalServer, type LocalServerOptions } from '../src/dev-server';
import { LocalEvaluationClient } from '../src/local/client';
import { RemoteEvaluationClient } from '../src/remote/client';
import { isFetchError } from '../src/util/http';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  FAST_POLLING,
  flag,
  guardUnhandledRejections,
  localClient,
  sleep,
  useLocalServer,
} from './support';

guardUnhandledRejections();

const DNS_FAIL = 'http://amplitude-experiment-test.invalid';
const cohortKeys = { apiKey: 'cohort-api', secretKey: 'cohort-secret' };

const SERVER: LocalServerOptions = {
  flags: [flag('a'), cohortFlag('f1', 'c1')],
  apiKeys: [API_KEY],
  cohortKeys: [cohortKeys],
  cohorts: [{ cohortId: 'c1', memberIds: ['u1'], lastModified: 100 }],
};
// A server per test: useLocalServer in each describe but the last, whose tests run side by side with their own.

describe('flag poll', () => {
  const server = useLocalServer(SERVER);
  it.each([401, 403])('%i while polling: keeps the last flags, logs, keeps polling, recovers', async (status) => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger }, FAST_POLLING);
    await c.start();
    server.injectFaults('flags', { status, times: 3 });
    server.setFlags([flag('a'), flag('b')]);
    await eventually(() => server.pendingFaults('flags') === 0, 10_000, 'faults consumed');
    expect(c.flagKeys()).toEqual(['a', 'f1']);
    expect(c.evaluateV2({}, ['a']).a.key).toBe('on');
    await eventually(() => c.flagKeys().includes('b'), 10_000, 'recovery');
    expect(logger.count('warn', `flag poll failed`)).toBeGreaterThanOrEqual(1);
    expect(logger.lines.some((l) => l.message.includes(String(status)))).toBe(true);
  });

  it('DNS failure at start: start() rejects within startTimeoutMillis; evaluation gives {} without throwing', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: DNS_FAIL, startTimeoutMillis: 1500, logger });
    const err = await c.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(String(err?.message)).toMatch(/getaddrinfo (ENOTFOUND|EAI_AGAIN)/);
    expect(c.evaluateV2({ user_id: 'u' })).toEqual({});
  });

  it('DNS failure with bootstrap flags: start() rejects, the bootstrap flags keep serving', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: DNS_FAIL, startTimeoutMillis: 1500, bootstrap: [flag('boot')], logger });
    await expect(c.start()).rejects.toThrow();
    expect(c.evaluateV2({}, ['boot']).boot.key).toBe('on');
  });

  it('connection refused while polling (server gone): the last flags stay, polls keep failing with backoff', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger }, FAST_POLLING);
    await c.start();
    await server.close(); // the port stops answering: connection refused
    await eventually(() => logger.count('warn', 'flag poll failed') >= 2, 10_000, 'failed polls');
    expect(c.evaluateV2({}, ['a']).a.key).toBe('on');
  });
});

describe('flag stream', () => {
  const server = useLocalServer(SERVER);
  function streamingClient(logger = capturingLogger(), streamServerUrl = server.url) {
    return localClient(
      {
        serverUrl: server.url,
        streamUpdates: true,
        streamServerUrl,
        streamFlagConnTimeoutMillis: 250,
        logger,
      },
      {
        ...FAST_POLLING,
        stream: { keepAliveTimeoutMillis: 2000, retryBackoff: { minMillis: 20, maxMillis: 80, scalar: 2, jitter: 0 } },
      },
    );
  }

  const connectFaults: Array<[string, Fault]> = [
    ['400', { status: 400 }],
    ['403', { status: 403 }],
    ['404', { status: 404 }],
    ['429', { status: 429, headers: { 'retry-after': '1' } }],
    ['500', { status: 500 }],
    ['timeout (no answer)', { hang: true }],
    ['connection reset', { reset: true }],
    ['slow body', { slowBodyMs: 2000, status: 200, body: 'data: ' + '['.repeat(10) }],
    ['garbage body', { status: 200, body: '<html>not an event stream</html>' }],
  ];
  it.each(connectFaults)(
    '%s on connect: start() resolves by polling, flags are served, the stream comes back',
    async (_name, fault) => {
      const logger = capturingLogger();
      server.injectFaults('stream', { ...fault, times: 2 });
      const c = streamingClient(logger);
      await c.start();
      expect(c.flagKeys()).toEqual(['a', 'f1']);
      expect(server.requests('flags').length).toBeGreaterThanOrEqual(1);
      await eventually(() => server.openStreams === 1 && server.pendingFaults('stream') === 0, 15_000, 'stream back');
      server.setFlags([flag('a'), flag('s')]);
      await eventually(() => c.flagKeys().includes('s'), 5000, 'streamed update');
      expect(logger.count('warn', /flag stream (unavailable|failed)/)).toBeGreaterThanOrEqual(1);
    },
  );

  it('DNS failure of the stream host: start() resolves by polling and polling keeps the flags fresh', async () => {
    const logger = capturingLogger();
    const c = streamingClient(logger, DNS_FAIL);
    await c.start();
    expect(c.flagKeys()).toEqual(['a', 'f1']);
    server.setFlags([flag('a'), flag('p')]);
    await eventually(() => c.flagKeys().includes('p'), 5000, 'polled update');
    expect(logger.count('warn', /flag stream (unavailable|failed)/)).toBeGreaterThanOrEqual(1);
    expect(server.requests('stream')).toHaveLength(0);
  });
});

describe('cohort download', () => {
  const server = useLocalServer(SERVER);
  function cohortClient(logger = capturingLogger(), cohortServerUrl = server.url) {
    return localClient(
      { serverUrl: server.url, cohortSyncConfig: { ...cohortKeys, cohortServerUrl }, logger },
      {
        cohortRetryBackoff: { minMillis: 20, maxMillis: 100, scalar: 2 },
        cohortMissingRetryBackoff: { minMillis: 100, maxMillis: 400, scalar: 2 },
        cohortRequestTimeoutMillis: 300,
      },
    );
  }

  it.each([400, 403, 404])(
    '%i: start() resolves, the cohort is not loaded (non-member), the error is logged, flags are served',
    async (status) => {
      server.injectFaults('cohort', { status, times: Infinity });
      const logger = capturingLogger();
      const c = cohortClient(logger);
      await c.start();
      expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('off');
      expect(c.evaluateV2({}, ['a']).a.key).toBe('on');
      expect(logger.count('error', /cohort c1/)).toBeGreaterThanOrEqual(1);
      server.clearFaults('cohort');
    },
  );

  it('DNS failure of the cohort host: start() resolves, cohort flags evaluate as non-member, the rest is served', async () => {
    const logger = capturingLogger();
    const c = cohortClient(logger, DNS_FAIL);
    await c.start();
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('off');
    expect(c.evaluateV2({}, ['a']).a.key).toBe('on');
    expect(logger.count('error', /cohort c1 download failed/)).toBeGreaterThanOrEqual(1);
    expect(server.requests('cohort')).toHaveLength(0);
  });
});

describe('remote fetch', () => {
  const server = useLocalServer(SERVER);
  const remote = (serverUrl: string, extra: Record<string, unknown> = {}) =>
    new RemoteEvaluationClient(API_KEY, {
      serverUrl,
      fetchTimeoutMillis: 1000,
      fetchRetries: 2,
      fetchRetryBackoffMinMillis: 10,
      fetchRetryBackoffMaxMillis: 20,
      fetchRetryTimeoutMillis: 1000,
      loggerProvider: capturingLogger(),
      ...extra,
    });

  it('403 rejects with statusCode 403 and is not retried', async () => {
    server.injectFaults('vardata', { status: 403, times: Infinity });
    const c = remote(server.url);
    try {
      const err = await c.fetchV2({ user_id: 'u' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isFetchError(err) && err.statusCode).toBe(403);
      expect(server.requests('vardata')).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it.each([
    ['429', { status: 429 }],
    ['500', { status: 500 }],
    ['503', { status: 503 }],
  ])('%s is retried and the retry succeeds', async (_name, fault) => {
    server.injectFaults('vardata', fault);
    const c = remote(server.url);
    try {
      const variants = await c.fetchV2({ user_id: 'u' });
      expect(variants.a?.key).toBe('on');
      expect(server.requests('vardata')).toHaveLength(2);
      expect(server.requests('vardata')[0].status).toBe(fault.status);
    } finally {
      await c.close();
    }
  });

  it('DNS failure rejects with code NETWORK and the resolver error as cause', async () => {
    const c = remote(DNS_FAIL, { fetchRetries: 0 });
    try {
      const err = await c.fetchV2({ user_id: 'u' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isFetchError(err)).toBe(true);
      if (!isFetchError(err)) return;
      expect(err.code).toBe('NETWORK');
      expect(err.statusCode).toBeUndefined();
      expect(JSON.stringify(err.cause, Object.getOwnPropertyNames(err.cause ?? {})) + String(err.cause)).toMatch(
        /ENOTFOUND|EAI_AGAIN|getaddrinfo/,
      );
    } finally {
      await c.close();
    }
  });
});

const tracking = (serverUrl: string) => ({
  apiKey: 'analytics-key',
  serverUrl,
  flushIntervalMillis: 60_000,
  flushQueueSize: 1000,
});

describe('analytics (exposure events)', () => {
  const server = useLocalServer(SERVER);

  const faults: Array<[string, Fault]> = [
    ['400', { status: 400, body: '{"code":400,"error":"Invalid request"}' }],
    ['401', { status: 401 }],
    ['403', { status: 403 }],
    ['413', { status: 413 }],
    ['429', { status: 429 }],
    ['500', { status: 500 }],
    ['503', { status: 503 }],
    ['timeout', { hang: true }],
    ['connection reset', { reset: true }],
    ['slow body', { slowBodyMs: 2000, status: 200, body: '{"code":200}' }],
    ['garbage body', { status: 200, body: '<html>' }],
  ];
  it.each(faults)(
    '%s: evaluation is unaffected, close() returns within its flush timeout, nothing unhandled',
    async (_name, fault) => {
      server.injectFaults('httpapi', { ...fault, times: Infinity });
      const logger = capturingLogger();
      const c = localClient({ serverUrl: server.url, logger, exposureConfig: tracking(server.url + '/2/httpapi') });
      await c.start();
      for (let i = 0; i < 20; i++) expect(c.evaluateV2({ user_id: `u${i}` }, ['a'], { tracksExposure: true }).a.key).toBe('on');
      await c.close({ flushTimeoutMillis: 400 });
      await eventually(() => server.requests('httpapi').length > 0, 5000, 'an upload attempt');
      expect(server.events()).toHaveLength(0);
      await sleep(50); // anything the analytics client does after close() happens here, under the unhandled-rejection guard
    },
  );

  it('DNS failure: evaluation is unaffected, close() returns, no request reaches anyone', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger, exposureConfig: tracking(DNS_FAIL + '/2/httpapi') });
    await c.start();
    expect(c.evaluateV2({ user_id: 'u1' }, ['a'], { tracksExposure: true }).a.key).toBe('on');
    await c.close({ flushTimeoutMillis: 400 });
    expect(server.requests('httpapi')).toHaveLength(0);
  });

  it.each([
    ['400', { status: 400 }],
    ['429', { status: 429 }],
    ['500', { status: 500 }],
  ])('a transient %s during operation is retried by analytics-node and the events arrive', async (_name, fault) => {
    server.injectFaults('httpapi', fault);
    const c = localClient({
      serverUrl: server.url,
      logger: capturingLogger(),
      exposureConfig: { ...tracking(server.url + '/2/httpapi'), flushIntervalMillis: 100 },
    });
    await c.start();
    c.evaluateV2({ user_id: 'u1' }, ['a'], { tracksExposure: true });
    await eventually(() => server.events().length === 1, 10_000, 'the retried upload');
    expect(server.requests('httpapi').map((r) => r.status)).toEqual([fault.status, 200]);
  });

  it("analytics-node's own error messages go to the SDK logger, not the console", async () => {
    server.injectFaults('httpapi', { reset: true, times: Infinity });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const consoleLog = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const logger = capturingLogger();
      const c = localClient({
        serverUrl: server.url,
        logger,
        exposureConfig: { ...tracking(server.url + '/2/httpapi'), flushIntervalMillis: 100 },
      });
      await c.start();
      c.evaluateV2({ user_id: 'u1' }, ['a'], { tracksExposure: true });
      await eventually(() => logger.count('error', /analytics: /) > 0, 5000, "analytics-node's error in the SDK logger");
      await c.close({ flushTimeoutMillis: 400 });
      const fromAnalytics = [...consoleError.mock.calls, ...consoleLog.mock.calls].filter((args) =>
        String(args[0]).includes('Amplitude Logger'),
      );
      expect(fromAnalytics).toEqual([]);
    } finally {
      consoleError.mockRestore();
      consoleLog.mockRestore();
    }
  });
});

// analytics-node keeps an event in its queue until it is delivered or given up; only queued events are retried
// (after its fixed 1 s retry delay). Giving up settles the event's promise, which the SDK counts in the metrics'
// onTrackedEventsDropped: once counted, no retry of the event can come, without waiting out the delay. With a
// server and a client of their own, these run side by side.
describe.concurrent('analytics (exposure events): no retry', () => {
  /** Runs `test` against its own server (with `fault` queued on the analytics route) and client; closes both. */
  async function withOwnServer(
    fault: Fault,
    flushIntervalMillis: number,
    test: (server: LocalServer, c: LocalEvaluationClient, dropped: () => number) => Promise<void>,
  ): Promise<void> {
    const server = await createLocalServer(SERVER);
    server.injectFaults('httpapi', fault);
    let dropped = 0;
    const c = new LocalEvaluationClient(API_KEY, {
      serverUrl: server.url,
      logger: capturingLogger(),
      metrics: { onTrackedEventsDropped: (_kind, count) => void (dropped += count) },
      exposureConfig: { ...tracking(server.url + '/2/httpapi'), flushIntervalMillis },
    });
    try {
      await test(server, c, () => dropped);
    } finally {
      await c.close({ flushTimeoutMillis: 500 });
      await server.close();
    }
  }

  it('a connection reset during a flush loses that batch (analytics-node does not retry network errors)', async ({ expect }) => {
    await withOwnServer({ reset: true }, 100, async (server, c, dropped) => {
      await c.start();
      c.evaluateV2({ user_id: 'u1' }, ['a'], { tracksExposure: true });
      await server.waitForRequests('httpapi', 1);
      await eventually(() => dropped() === 1, 10_000, 'the event given up');
      expect(server.requests('httpapi')).toHaveLength(1);
      expect(server.events()).toHaveLength(0);
      expect(c.evaluateV2({ user_id: 'u2' }, ['a']).a.key).toBe('on');
    });
  });

  it.for<[string, Fault]>([
    ['500', { status: 500 }],
    ['429', { status: 429 }],
    ['connection reset', { reset: true }],
  ])('a %s on the final flush at close() drops those events (no retry after close)', async ([, fault], { expect }) => {
    await withOwnServer(fault, 60_000, async (server, c, dropped) => {
      await c.start();
      c.evaluateV2({ user_id: 'u1' }, ['a'], { tracksExposure: true });
      await c.close({ flushTimeoutMillis: 10_000 });
      expect(server.requests('httpapi')).toHaveLength(1);
      await eventually(() => dropped() === 1, 10_000, 'the event given up');
      expect(server.requests('httpapi')).toHaveLength(1);
      expect(server.events()).toHaveLength(0);
    });
  });
});
