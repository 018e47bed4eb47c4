/**
 * evaluationProxyConfig: flags and cohorts from the evaluation proxy (the
 * local server in evaluation-proxy mode), Amplitude (a second local server)
 * when the proxy fails, and per-user memberships for cohorts not held in
 * memory, cached in an LRU with a TTL.
 */
import { describe, expect, it } from 'vitest';
import { resolveLocalConfig } from '../../src/config/local';
import { FlagPoller } from '../../src/local/flag-poller';
import type { LocalServer } from '../../src/dev-server';
import type { ExperimentUser } from '../../src/types';
import { HttpClient } from '../../src/util/http';
import { createLogger } from '../../src/util/logger';
import { LIBRARY } from '../../src/version';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  flag,
  guardUnhandledRejections,
  localClient,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

const cohortKeys = { apiKey: 'cohort-api', secretKey: 'cohort-secret' };
const cohorts = [
  { cohortId: 'c1', memberIds: ['u1', 'u2'], lastModified: 100 },
  { cohortId: 'big', memberIds: ['u3', 'u4', 'u5'], lastModified: 100 },
  { cohortId: 'g1', groupType: 'org', memberIds: ['acme'], lastModified: 100 },
];
const flags = [cohortFlag('f1', 'c1', { groupType: 'org', cohortId: 'g1' }), cohortFlag('fbig', 'big'), flag('plain')];

// Amplitude serves `plain` off, the proxy serves it on: answers tell which one the flags came from.
const amplitude = useLocalServer({
  flags: [...flags.slice(0, 2), flag('plain', 'off')],
  apiKeys: [API_KEY],
  cohortKeys: [cohortKeys],
  cohorts,
});
const proxy = useLocalServer({ flags, apiKeys: [API_KEY], cohortKeys: [cohortKeys], cohorts, evaluationProxy: true });

function client(extra: Record<string, unknown> = {}, logger = capturingLogger(), internals: Record<string, unknown> = {}) {
  return localClient(
    {
      serverUrl: amplitude.url,
      flagConfigPollingIntervalMillis: 60_000,
      evaluationProxyConfig: { proxyUrl: proxy.url },
      logger,
      ...extra,
    },
    { cohortRetryBackoff: { minMillis: 5, maxMillis: 10, scalar: 1 }, ...internals },
  );
}

const on = (c: ReturnType<typeof client>, user: ExperimentUser, key: string) => c.evaluateV2(user, [key])[key]?.key;

describe('config', () => {
  it('defaults are the JVM SDK’s; a missing proxyUrl is a clear error', () => {
    const r = resolveLocalConfig({ evaluationProxyConfig: { proxyUrl: 'http://proxy:3546/' } });
    expect(r.evaluationProxyConfig).toEqual({
      proxyUrl: 'http://proxy:3546',
      cohortCacheCapacity: 1_000_000,
      cohortCacheTtlMillis: 60_000,
    });
    expect(() => resolveLocalConfig({ evaluationProxyConfig: {} as never })).toThrow(
      /config.evaluationProxyConfig.proxyUrl is required/,
    );
    expect(() => resolveLocalConfig({ evaluationProxyConfig: { proxyUrl: 'ftp://x' } })).toThrow(/http or https/);
  });
});

describe('flags and cohorts over HTTP', () => {
  it('come from the proxy (cohorts gzipped, with the cohort keys); Amplitude is not asked', async () => {
    const c = client({ cohortSyncConfig: { ...cohortKeys, cohortServerUrl: amplitude.url } });
    await c.start();
    expect(on(c, {}, 'plain')).toBe('on');
    expect(c.status().source).toBe('evaluation-proxy-http');
    expect(amplitude.requests()).toEqual([]);
    expect(proxy.requests('flags')[0].headers.authorization).toBe(`Api-Key ${API_KEY}`);
    const cohortRequests = proxy.requests('cohort');
    expect(cohortRequests.map((r) => r.path).sort()).toEqual(['/sdk/v1/cohort/big', '/sdk/v1/cohort/c1', '/sdk/v1/cohort/g1']);
    expect(cohortRequests[0].headers.authorization).toBe('Basic ' + Buffer.from('cohort-api:cohort-secret').toString('base64'));
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('on');
    expect(on(c, { user_id: 'u9', groups: { org: ['acme'] } }, 'f1')).toBe('on');
    expect(on(c, { user_id: 'u9' }, 'f1')).toBe('off');
    // Every cohort is held in memory: no memberships lookups.
    expect(on(c, { user_id: 'u3' }, 'fbig')).toBe('on');
    expect(proxy.requests('memberships')).toEqual([]);
  });

  it('fall back to Amplitude when the proxy fails, with one warning each', async () => {
    proxy.injectFaults('flags', { status: 503, times: Infinity });
    proxy.injectFaults('cohort', { reset: true, times: Infinity });
    const logger = capturingLogger();
    const c = client({ cohortSyncConfig: { ...cohortKeys, cohortServerUrl: amplitude.url } }, logger);
    await c.start();
    expect(on(c, {}, 'plain')).toBe('off'); // Amplitude's flags
    expect(c.status().source).toBe('poll');
    expect(on(c, { user_id: 'u2' }, 'f1')).toBe('on');
    expect(amplitude.requests('cohort')).toHaveLength(3);
    expect(
      logger.count(
        'warn',
        /flags from the evaluation proxy failed \(flag request failed: status=503\); fetching them from Amplitude/,
      ),
    ).toBe(1);
    expect(logger.count('warn', /from the evaluation proxy failed .*downloading cohorts from Amplitude/)).toBe(1);
  });

  it('a corrupt gzip from the proxy is not installed; Amplitude answers instead', async () => {
    proxy.injectFaults('cohort', { status: 200, headers: { 'content-encoding': 'gzip' }, body: 'not gzip', times: Infinity });
    const logger = capturingLogger();
    const c = client({ cohortSyncConfig: { ...cohortKeys, cohortServerUrl: amplitude.url } }, logger);
    await c.start();
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('on');
    expect(amplitude.requests('cohort')).toHaveLength(3);
    expect(logger.count('warn', /not valid gzip/)).toBe(1);
  });

  it('the poller goes back to the proxy once it answers again', async () => {
    const logger = capturingLogger();
    const http = new HttpClient();
    const poller = new FlagPoller({
      apiKey: API_KEY,
      serverUrl: amplitude.url,
      proxyUrl: proxy.url,
      pollingIntervalMillis: 60_000,
      requestTimeoutMillis: 5_000,
      http,
      logger: createLogger({ logger, logLevel: 5 }),
      onPayload: () => true,
    });
    try {
      proxy.injectFaults('flags', { reset: true });
      expect(JSON.parse((await poller.fetchOnce()).toString())[2].segments[0].variant).toBe('off');
      expect(JSON.parse((await poller.fetchOnce()).toString())[2].segments[0].variant).toBe('on');
      expect(amplitude.requests('flags')).toHaveLength(1);
      expect(proxy.requests('flags')).toHaveLength(2);
      expect(logger.count('info', 'flags from the evaluation proxy are served again')).toBe(1);
    } finally {
      poller.stop();
      await http.close();
    }
  });
});

describe('memberships for cohorts not held in memory', () => {
  it('without cohort downloads: evaluateV2 never waits; prepareUser / evaluateV2Async make it exact', async () => {
    const logger = capturingLogger();
    const c = client({}, logger);
    await c.start();
    expect(logger.count('error', /no cohort download configured/)).toBe(0);
    // First evaluation: a miss. Answered "in none of them", the lookup starts in the background.
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('off');
    await eventually(() => on(c, { user_id: 'u1' }, 'f1') === 'on', 5_000, 'background lookup');
    const [first] = proxy.requests('memberships');
    expect(first.path).toBe('/sdk/v2/memberships/User/u1');
    expect(first.headers.authorization).toBe(`Api-Key ${API_KEY}`);
    expect(first.headers['x-amp-exp-library']).toBe(LIBRARY);

    expect((await c.evaluateV2Async({ user_id: 'u4' }, ['fbig'])).fbig.key).toBe('on');
    await c.prepareUser({ user_id: 'u9', groups: { org: ['acme'] } });
    expect(on(c, { user_id: 'u9', groups: { org: ['acme'] } }, 'f1')).toBe('on');
    expect(
      proxy
        .requests('memberships')
        .map((r) => r.path)
        .slice(1)
        .sort(),
    ).toEqual(['/sdk/v2/memberships/User/u4', '/sdk/v2/memberships/User/u9', '/sdk/v2/memberships/org/acme']);
    // Cached: no further requests.
    for (let i = 0; i < 5; i++) expect(on(c, { user_id: 'u4' }, 'fbig')).toBe('on');
    await c.prepareUser({ user_id: 'u4' });
    expect(proxy.requests('memberships')).toHaveLength(4);
    // Deprecated evaluate() is async anyway: it prepares too.
    expect((await c.evaluate({ user_id: 'u2' }, ['f1'])).f1?.key).toBe('on');
  });

  it('names are escaped in the path; odd users never trigger a lookup', async () => {
    const c = client();
    await c.start();
    proxy.setCohort({ cohortId: 'c1', memberIds: ['a/b?c d'], lastModified: 200 });
    expect((await c.evaluateV2Async({ user_id: 'a/b?c d' }, ['f1'])).f1.key).toBe('on');
    expect(proxy.requests('memberships')[0].path).toBe('/sdk/v2/memberships/User/a%2Fb%3Fc%20d');
    await c.prepareUser({});
    await c.prepareUser({ user_id: '' });
    await c.prepareUser({ device_id: 'd', groups: { org: [] } });
    expect(on(c, {}, 'f1')).toBe('off');
    expect(proxy.requests('memberships')).toHaveLength(1);
  });

  it('a cohort too large to download is asked per user; the downloaded ones answer from memory', async () => {
    const c = client({ cohortSyncConfig: { ...cohortKeys, cohortServerUrl: amplitude.url, maxCohortSize: 2 } });
    await c.start();
    // Group cohorts are all held: no lookup for a group. User cohort `big` is not: users are looked up.
    await c.prepareUser({ groups: { org: ['acme'] } });
    expect(on(c, { groups: { org: ['acme'] } }, 'f1')).toBe('on');
    expect(proxy.requests('memberships')).toEqual([]);
    expect((await c.evaluateV2Async({ user_id: 'u5' }, ['fbig'])).fbig.key).toBe('on');
    expect(proxy.requests('memberships').map((r) => r.path)).toEqual(['/sdk/v2/memberships/User/u5']);
    // The proxy's answer only counts for cohorts not held: c1 still answers from memory.
    proxy.setCohort({ cohortId: 'c1', memberIds: ['u5'], lastModified: 300 });
    expect((await c.evaluateV2Async({ user_id: 'u5' }, ['f1'])).f1.key).toBe('off');
  });

  it('TTL: an expired answer keeps serving while its refresh is in flight; capacity evicts the least recent', async () => {
    let now = 1_000;
    const c = client(
      { evaluationProxyConfig: { proxyUrl: proxy.url, cohortCacheTtlMillis: 1_000, cohortCacheCapacity: 2 } },
      capturingLogger(),
      { membershipClock: { now: () => now } },
    );
    await c.start();
    await c.prepareUser({ user_id: 'u1' });
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('on');
    proxy.setCohort({ cohortId: 'c1', memberIds: ['u2'], lastModified: 200 });
    now += 999;
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('on');
    expect(proxy.requests('memberships')).toHaveLength(1);
    now += 2;
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('on'); // stale answer served, refresh started
    await eventually(() => on(c, { user_id: 'u1' }, 'f1') === 'off', 5_000, 'refreshed answer');
    expect(proxy.requests('memberships')).toHaveLength(2);

    await c.prepareUser({ user_id: 'u2' });
    await c.prepareUser({ user_id: 'u3' }); // evicts u1
    await c.prepareUser({ user_id: 'u2' });
    expect(proxy.requests('memberships')).toHaveLength(4);
    await c.prepareUser({ user_id: 'u1' });
    expect(proxy.requests('memberships')).toHaveLength(5);
  });

  it('a user whose getter throws: prepareUser resolves, nothing is looked up, it is evaluated as if it had no properties', async () => {
    const logger = capturingLogger();
    const c = client({}, logger);
    await c.start();
    const user = {
      get user_id(): string {
        throw new Error('id getter bug');
      },
      groups: { org: ['acme'] },
    };
    await expect(c.prepareUser(user)).resolves.toBeUndefined();
    // (no flag here reads user_id itself, so the evaluation never meets the getter: nothing to report)
    await expect(c.evaluateV2Async(user)).resolves.toEqual(c.evaluateV2({}));
    expect(proxy.requests('memberships')).toHaveLength(0);
    expect(logger.count('error', /./)).toBe(0);
  });

  it('the memberships endpoint failing: one error, held cohorts still answer, prepareUser never rejects', async () => {
    proxy.injectFaults('memberships', { status: 500, times: 3 }, { reset: true }, { status: 200, body: '{"not":"an array"}' });
    const logger = capturingLogger();
    let now = 1_000;
    const c = client({ cohortSyncConfig: { ...cohortKeys, cohortServerUrl: amplitude.url, maxCohortSize: 2 } }, logger, {
      membershipClock: { now: () => now },
    });
    await c.start();
    for (const id of ['u3', 'u4', 'u5', 'u3', 'u3']) {
      now += 60_000; // past the pause each failure starts
      await expect(c.prepareUser({ user_id: id })).resolves.toBeUndefined();
    }
    expect(proxy.requests('memberships')).toHaveLength(5);
    expect(on(c, { user_id: 'u3' }, 'fbig')).toBe('off');
    expect(on(c, { user_id: 'u1' }, 'f1')).toBe('on');
    expect(
      logger.count('error', /cohort memberships from the evaluation proxy failed \(memberships request failed: status=500\)/),
    ).toBe(1);
    expect(logger.lines.filter((l) => l.level === 'error' && /memberships/.test(l.message))).toHaveLength(1);
    now += 60_000;
    await c.prepareUser({ user_id: 'u3' });
    expect(on(c, { user_id: 'u3' }, 'fbig')).toBe('on');
    expect(logger.count('info', 'cohort memberships from the evaluation proxy are answered again')).toBe(1);
  });

  it('a failing proxy is not hammered: a failure pauses every lookup for a backoff delay (1 s, doubling)', async () => {
    proxy.injectFaults('memberships', { status: 503, times: Infinity });
    const logger = capturingLogger();
    let now = 1_000;
    const c = client({}, logger, { membershipClock: { now: () => now } });
    await c.start();
    const user = { user_id: 'u1' };
    const hammer = async (): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        expect(on(c, user, 'f1')).toBe('off');
        await c.prepareUser(user); // waits for a lookup in flight, if one was started
        expect(on(c, { user_id: `other-${i}` }, 'f1')).toBe('off');
      }
    };
    await hammer();
    expect(proxy.requests('memberships')).toHaveLength(1);
    now += 999; // still within the first pause (1 s, jitter only lengthens it)
    await hammer();
    expect(proxy.requests('memberships')).toHaveLength(1);
    now += 1_200; // past it: one lookup, which fails and pauses for 2 s
    await hammer();
    expect(proxy.requests('memberships')).toHaveLength(2);
    now += 1_999;
    await hammer();
    expect(proxy.requests('memberships')).toHaveLength(2);
    expect(
      logger.count('error', /cohort memberships from the evaluation proxy failed \(memberships request failed: status=503\)/),
    ).toBe(1);

    proxy.clearFaults('memberships');
    now += 60_000;
    await c.prepareUser(user);
    expect(on(c, user, 'f1')).toBe('on');
    // Answered again: lookups are no longer paused.
    await c.prepareUser({ user_id: 'u2' });
    expect(on(c, { user_id: 'u2' }, 'f1')).toBe('on');
  });
});

describe('the local server in evaluation-proxy mode', () => {
  it('serves memberships with Api-Key auth, and only in that mode', async () => {
    const get = (server: LocalServer, path: string, key = API_KEY) =>
      fetch(server.url + path, { headers: { authorization: `Api-Key ${key}` } });
    const ok = await get(proxy, '/sdk/v2/memberships/User/u2');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(['c1']);
    expect(await (await get(proxy, '/sdk/v2/memberships/org/acme')).json()).toEqual(['g1']);
    expect(await (await get(proxy, '/sdk/v2/memberships/User/nobody')).json()).toEqual([]);
    expect((await get(proxy, '/sdk/v2/memberships/User/u2', 'wrong')).status).toBe(401);
    expect((await get(amplitude, '/sdk/v2/memberships/User/u2')).status).toBe(404);
    expect((await fetch(proxy.url + '/status')).status).toBe(200);
    const cohort = await fetch(proxy.url + '/sdk/v1/cohort/c1?maxCohortSize=10&lastModified=100', {
      headers: { authorization: 'Basic ' + Buffer.from('cohort-api:cohort-secret').toString('base64') },
    });
    expect(cohort.status).toBe(204);
  });
});
