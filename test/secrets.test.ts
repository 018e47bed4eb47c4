// Keys never leak: every client is driven through failures (refused keys,
// server errors, resets, timeouts, DNS failures, bad payloads) with a
// capturing logger at the most verbose level and console/process warnings
// captured too; no log line, warning, error message, stack or inspected error
// (causes included) may contain a deployment key, an analytics key, the cohort
// API key or secret, or their Basic-auth encoding. And the local server's
// request log shows where each key was sent: the cohort secret only to the
// cohort route.
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalEvaluationConfig } from '../src/config/local';
import { LocalEvaluationClient } from '../src/local/client';
import { LOCAL_CLIENT_INTERNALS } from '../src/local/internals';
import { RemoteEvaluationClient } from '../src/remote/client';
import type { RequestLogEntry } from '../src/dev-server';
import { LogLevel, type LoggerProvider } from '../src/util/logger';
import { cohortFlag, eventually, FAST_POLLING, flag, guardUnhandledRejections, useLocalServer } from './support';

guardUnhandledRejections();

const DEPLOYMENT_KEY = 'server-DEPLOYKEY-7f3a9c';
const REFUSED_KEY = 'server-REFUSEDKEY-51d0e2';
const ANALYTICS_KEY = 'ANALYTICSKEY-0b8e44';
const COHORT_API_KEY = 'COHORTAPIKEY-c27d19';
const COHORT_SECRET = 'COHORTSECRET-9e61fa';
const BASIC = Buffer.from(`${COHORT_API_KEY}:${COHORT_SECRET}`).toString('base64');
const SECRETS = [DEPLOYMENT_KEY, REFUSED_KEY, ANALYTICS_KEY, COHORT_API_KEY, COHORT_SECRET, BASIC];
const DNS_FAIL = 'http://amplitude-experiment-test.invalid';

/** Everything that could reach a log or an operator's eyes. */
const seen: string[] = [];
function capture(what: unknown): void {
  if (what instanceof Error) {
    seen.push(String(what.message), String(what.stack), inspect(what, { depth: 20, showHidden: true }));
  } else {
    seen.push(typeof what === 'string' ? what : inspect(what, { depth: 20 }));
  }
}
function logger(): LoggerProvider {
  const push = (...args: unknown[]): void => args.forEach(capture);
  return { verbose: push, debug: push, info: push, warn: push, error: push };
}
async function outcome(p: Promise<unknown>): Promise<void> {
  await p.then(capture, capture);
}

beforeEach(() => {
  seen.length = 0;
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => args.forEach(capture));
  }
  process.on('warning', capture);
});
afterEach(() => {
  process.off('warning', capture);
  vi.restoreAllMocks();
});
const server = useLocalServer({
  flags: [flag('a'), cohortFlag('f1', 'c1')],
  apiKeys: [DEPLOYMENT_KEY],
  cohortKeys: [{ apiKey: COHORT_API_KEY, secretKey: COHORT_SECRET }],
  cohorts: [{ cohortId: 'c1', memberIds: ['u1'], lastModified: 100 }],
});

function expectNoSecrets(): void {
  expect(seen.length).toBeGreaterThan(10); // the failures really were logged
  const all = seen.join('\n');
  for (const s of SECRETS) expect(all, `found ${s} in the logs`).not.toContain(s);
}

function where(entries: RequestLogEntry[], secret: string): string[] {
  return entries
    .filter((r) => JSON.stringify([r.url, r.headers, r.body ?? '']).includes(secret))
    .map((r) => r.route ?? 'unmatched');
}

describe('secrets', () => {
  it('local client: keys never appear in logs, warnings or errors across failures; each key goes only where it belongs', async () => {
    const cohortSyncConfig = { apiKey: COHORT_API_KEY, secretKey: COHORT_SECRET, cohortServerUrl: server.url };
    const exposureConfig = {
      apiKey: ANALYTICS_KEY,
      serverUrl: server.url + '/2/httpapi',
      flushIntervalMillis: 100,
      flushQueueSize: 1000,
    };
    const common = { logger: logger(), logLevel: LogLevel.Verbose, debug: true, startTimeoutMillis: 3000 };

    // 1. Refused deployment key, polling and streaming.
    for (const streamUpdates of [false, true]) {
      const c = new LocalEvaluationClient(REFUSED_KEY, {
        ...common,
        serverUrl: server.url,
        streamUpdates,
        streamServerUrl: server.url,
      });
      await outcome(c.start());
      await c.close();
    }
    // 2. DNS failures everywhere.
    {
      const c = new LocalEvaluationClient(DEPLOYMENT_KEY, {
        ...common,
        serverUrl: DNS_FAIL,
        streamUpdates: true,
        streamServerUrl: DNS_FAIL,
        cohortSyncConfig: { ...cohortSyncConfig, cohortServerUrl: DNS_FAIL },
        exposureConfig: { ...exposureConfig, serverUrl: DNS_FAIL + '/2/httpapi' },
        bootstrap: [flag('a'), cohortFlag('f1', 'c1')],
      });
      await outcome(c.start());
      c.evaluateV2({ user_id: 'u1' }, undefined, { tracksExposure: true });
      await c.close({ flushTimeoutMillis: 1000 });
    }
    // 3. A working client, then every fault: stream, flags, cohorts (401, 500, reset, garbage), analytics.
    {
      server.injectFaults('stream', { status: 403 }, { reset: true }, { status: 200, body: 'data: {garbage\n\n' });
      server.injectFaults('cohort', { status: 500 }, { reset: true }, { status: 200, body: '<html>' });
      server.injectFaults('httpapi', { status: 400 }, { status: 401 }, { reset: true }, { status: 500 });
      const c = new LocalEvaluationClient(DEPLOYMENT_KEY, {
        ...common,
        serverUrl: server.url,
        streamUpdates: true,
        streamServerUrl: server.url,
        streamFlagConnTimeoutMillis: 1000,
        cohortSyncConfig,
        exposureConfig,
        assignmentConfig: { ...exposureConfig },
        // Polling and stream retries every few ms, so every injected fault is met without waiting on production timings.
        [LOCAL_CLIENT_INTERNALS]: { ...FAST_POLLING, stream: { retryBackoff: { minMillis: 20, maxMillis: 80, scalar: 2 } } },
      } as LocalEvaluationConfig);
      await outcome(c.start());
      for (let i = 0; i < 10; i++) c.evaluateV2({ user_id: `u${i}` }, undefined, { tracksExposure: true });
      server.injectFaults('flags', { status: 401 }, { status: 500 }, { status: 200, body: '{"not":"flags"}' });
      server.closeStreams('destroy');
      server.pushStream('data: [not json\n\n');
      const routes = ['httpapi', 'flags', 'stream', 'cohort'];
      await eventually(() => routes.every((r) => server.pendingFaults(r) === 0), 10_000, 'every fault met');
      await c.close({ flushTimeoutMillis: 1000 });
    }
    // 4. Cohort credentials refused.
    {
      server.state.cohortKeys.clear();
      server.state.cohortKeys.add(Buffer.from('someone:else').toString('base64'));
      const c = new LocalEvaluationClient(DEPLOYMENT_KEY, { ...common, serverUrl: server.url, cohortSyncConfig });
      await outcome(c.start());
      c.evaluateV2({ user_id: 'u1' });
      await c.close();
    }

    expectNoSecrets();

    const requests = server.requests();
    expect(requests.length).toBeGreaterThan(10);
    // The cohort secret (as Basic auth) and the cohort API key: only to the cohort route.
    expect(new Set(where(requests, BASIC))).toEqual(new Set(['cohort']));
    expect(where(requests, COHORT_SECRET)).toEqual([]); // never in clear text
    expect(where(requests, COHORT_API_KEY)).toEqual([]);
    // The deployment key: only to the flag and stream routes.
    expect([...new Set(where(requests, DEPLOYMENT_KEY))].sort()).toEqual(['flags', 'stream']);
    // The analytics key: only to the analytics route.
    expect(new Set(where(requests, ANALYTICS_KEY))).toEqual(new Set(['httpapi']));
  }, 60_000);

  it('remote client: the deployment key never appears in logs or errors across failures', async () => {
    const cases: Array<[string, () => void]> = [
      ['401', () => server.injectFaults('vardata', { status: 401 })],
      ['500', () => server.injectFaults('vardata', { status: 500, times: 2 })],
      ['reset', () => server.injectFaults('vardata', { reset: true, times: 2 })],
      ['timeout', () => server.injectFaults('vardata', { hang: true, times: 2 })],
      ['garbage', () => server.injectFaults('vardata', { status: 200, body: '{garbage', times: 2 })],
    ];
    for (const [, inject] of cases) {
      inject();
      const c = new RemoteEvaluationClient(DEPLOYMENT_KEY, {
        serverUrl: server.url,
        loggerProvider: logger(),
        logLevel: LogLevel.Verbose,
        debug: true,
        fetchRetries: 1,
        fetchTimeoutMillis: 300,
        fetchRetryTimeoutMillis: 300,
        fetchRetryBackoffMinMillis: 1,
      });
      await outcome(c.fetchV2({ user_id: 'u' }));
      await outcome(c.fetch({ user_id: 'u' }));
      await new Promise<void>((resolve) => void c.fetchAsyncV2({ user_id: 'u' }, (_u, _v, err) => (capture(err), resolve())));
      await c.close();
      server.clearFaults('vardata');
    }
    for (const serverUrl of [DNS_FAIL, 'http://127.0.0.1:9']) {
      const c = new RemoteEvaluationClient(DEPLOYMENT_KEY, { serverUrl, loggerProvider: logger(), logLevel: LogLevel.Verbose });
      await outcome(c.fetchV2({ user_id: 'u' }));
      await c.close();
    }
    // Sent, as it must be, in the Authorization header of each request.
    expect(server.requests('vardata').every((r) => r.headers.authorization === `Api-Key ${DEPLOYMENT_KEY}`)).toBe(true);
    expectNoSecrets();
  }, 60_000);
});
