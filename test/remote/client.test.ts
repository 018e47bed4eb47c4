import { RemoteEvaluationClient as OfficialClient } from '@amplitude/experiment-node-server';
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { ExperimentClient, RemoteEvaluationClient } from '../../src/remote/client';
import type { FetchOptions } from '../../src/remote/client';
import type { RequestLogEntry } from '../../src/dev-server';
import { FetchError } from '../../src/util/http';
import type { ExperimentUser } from '../../src/types';
import { LIBRARY } from '../../src/version';
import { API_KEY, FLAGS } from '../dev-server/fixtures';
import { capturingLogger, guardUnhandledRejections, silentLogger as silent, track, useLocalServer } from '../support';

guardUnhandledRejections();

const server = useLocalServer({ flags: FLAGS, apiKeys: [API_KEY] });

function client(config: ConstructorParameters<typeof RemoteEvaluationClient>[1] = {}): RemoteEvaluationClient {
  return track(new RemoteEvaluationClient(API_KEY, { serverUrl: server.url, loggerProvider: silent, ...config }));
}

function official(config: Record<string, unknown> = {}): OfficialClient {
  return new OfficialClient(API_KEY, { serverUrl: server.url, loggerProvider: silent, fetchRetries: 0, ...config });
}

async function failure(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FetchError);
    return e as FetchError;
  }
  throw new Error('expected fetchV2 to reject');
}

const decode = (h: string | string[] | undefined): unknown => JSON.parse(Buffer.from(String(h), 'base64url').toString('utf8'));
const lastVardata = (): RequestLogEntry => {
  const list = server.requests('vardata');
  return list[list.length - 1];
};

const fullUser: ExperimentUser = {
  user_id: 'user@company.com',
  device_id: 'device-1',
  country: 'Deutschland',
  city: 'Zürich',
  language: '日本語',
  platform: 'server',
  user_properties: { premium: 'true', count: 3, flags: ['a', 'b'], '😀': true },
  groups: { 'org name': ['Amplitude'], team: ['a', 'b'] },
  group_properties: { 'org name': { Amplitude: { plan: 'enterprise', seats: 10 } } },
};

describe('fetchV2: request', () => {
  it('GET {serverUrl}/sdk/v2/vardata?v=0 with Authorization and the user as url-safe base64 JSON', async () => {
    await client().fetchV2(fullUser);
    const req = lastVardata();
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/sdk/v2/vardata?v=0');
    expect(req.headers.authorization).toBe(`Api-Key ${API_KEY}`);
    const header = String(req.headers['x-amp-exp-user']);
    expect(header).toMatch(/^[A-Za-z0-9_-]+$/); // url-safe, no padding
    expect(decode(header)).toEqual({ library: LIBRARY, ...fullUser });
    expect(LIBRARY).toMatch(/^amplitude-experiment-native\/\d+\.\d+\.\d+/);
    expect(req.headers['x-amp-exp-flag-keys']).toBeUndefined();
    expect(req.headers['x-amp-exp-track']).toBeUndefined();
    expect(req.headers['x-amp-exp-exposure-track']).toBeUndefined();
  });

  it("the caller's library wins; groups and group_properties pass through untouched", async () => {
    await client().fetchV2({ ...fullUser, library: 'my-app/2.0' });
    const user = decode(lastVardata().headers['x-amp-exp-user']) as ExperimentUser;
    expect(user.library).toBe('my-app/2.0');
    expect(user.groups).toEqual(fullUser.groups);
    expect(user.group_properties).toEqual(fullUser.group_properties);
  });

  it('a serverUrl with a base path keeps it', async () => {
    server.addRoute({
      name: 'prefixed',
      methods: ['GET'],
      path: '/proxy/amp/sdk/v2/vardata',
      handler: () => ({ status: 200, body: '{}' }),
    });
    await client({ serverUrl: server.url + '/proxy/amp/' }).fetchV2({});
    expect(server.requests('prefixed')[0].url).toBe('/proxy/amp/sdk/v2/vardata?v=0');
  });

  it('an undefined user sends only the library', async () => {
    await client().fetchV2(undefined as unknown as ExperimentUser);
    expect(decode(lastVardata().headers['x-amp-exp-user'])).toEqual({ library: LIBRARY });
  });

  it.each<[FetchOptions, Record<string, string | undefined>]>([
    [{ tracksAssignment: true }, { 'x-amp-exp-track': 'track', 'x-amp-exp-exposure-track': undefined }],
    [{ tracksAssignment: false }, { 'x-amp-exp-track': 'no-track', 'x-amp-exp-exposure-track': undefined }],
    [{ tracksExposure: true }, { 'x-amp-exp-track': undefined, 'x-amp-exp-exposure-track': 'track' }],
    [{ tracksExposure: false }, { 'x-amp-exp-track': undefined, 'x-amp-exp-exposure-track': 'no-track' }],
    [
      { tracksAssignment: false, tracksExposure: true },
      { 'x-amp-exp-track': 'no-track', 'x-amp-exp-exposure-track': 'track' },
    ],
    [{}, { 'x-amp-exp-track': undefined, 'x-amp-exp-exposure-track': undefined }],
  ])('tracking options %j', async (options, expected) => {
    await client().fetchV2({ user_id: 'u' }, options);
    const h = lastVardata().headers;
    expect(h['x-amp-exp-track']).toBe(expected['x-amp-exp-track']);
    expect(h['x-amp-exp-exposure-track']).toBe(expected['x-amp-exp-exposure-track']);
  });

  it('flagKeys go in X-Amp-Exp-Flag-Keys and limit the result (plus dependencies)', async () => {
    const variants = await client().fetchV2({ user_id: 'u' }, { flagKeys: ['flag-dependent', 'ユニコード'] });
    expect(decode(lastVardata().headers['x-amp-exp-flag-keys'])).toEqual(['flag-dependent', 'ユニコード']);
    expect(Object.keys(variants).sort()).toEqual(['flag-dependent', 'flag-on']);
  });

  it('headers are byte-identical to the official SDK (given the same library)', async () => {
    const ours = client();
    const theirs = official();
    const users: ExperimentUser[] = [
      { ...fullUser, library: 'lib/1' },
      { user_id: '\u00e9\u0000\uD83D\uDE00 "quotes" \\ back', library: 'lib/1' },
      { user_properties: { lone: '\uD800' }, library: 'lib/1' },
      { user_id: 'x'.repeat(3000), library: 'lib/1' },
    ];
    const optionsList: FetchOptions[] = [
      {},
      { flagKeys: ['flag-on', 'ü'], tracksAssignment: false, tracksExposure: true },
      { flagKeys: [], tracksAssignment: true, tracksExposure: false },
    ];
    for (const user of users) {
      for (const options of optionsList) {
        await ours.fetchV2(user, options);
        const mine = lastVardata();
        await theirs.fetchV2(user, options);
        const ref = lastVardata();
        expect(mine.url).toBe(ref.url);
        for (const h of [
          'authorization',
          'x-amp-exp-user',
          'x-amp-exp-flag-keys',
          'x-amp-exp-track',
          'x-amp-exp-exposure-track',
        ]) {
          expect(mine.headers[h]).toBe(ref.headers[h]);
        }
      }
    }
  });

  it('warns (not fails) when the encoded user is too large for the CDN', async () => {
    const warn = vi.fn();
    const c = client({ loggerProvider: { ...silent, warn }, logLevel: 2 });
    await c.fetchV2({ user_id: 'u', user_properties: { big: 'x'.repeat(9000) } });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/cannot be cached by CDN/));
  });
});

describe('fetchV2: results', () => {
  const users: ExperimentUser[] = [
    {},
    { user_id: 'u1', device_id: 'd1' },
    { device_id: 'device-xyz', user_properties: { premium: 'true' } },
    fullUser,
    { user_id: 'g', groups: { 'org name': ['Other'] }, group_properties: { 'org name': { Other: { plan: 'enterprise' } } } },
  ];

  it('include default variants and equal the official SDK results', async () => {
    const ours = client();
    const theirs = official();
    for (const user of users) {
      const a = await ours.fetchV2(user);
      const b = await theirs.fetchV2(user);
      expect(a).toStrictEqual(b);
      expect(a['flag-off']).toMatchObject({ key: 'off', metadata: { default: true } });
    }
  });

  it('converts variants like the official SDK: JSON values become strings, null becomes undefined', async () => {
    const body = JSON.stringify({
      json: { key: 'json', value: { a: [1, 'two'] }, payload: { p: true }, metadata: { flagVersion: 2 } },
      num: { key: 'n', value: 42 },
      bool: { key: 'b', value: false },
      nul: { key: 'z', value: null },
      str: { key: 's', value: 'text' },
      bare: {},
    });
    server.injectFaults('vardata', { body }, { body });
    const a = await client().fetchV2({});
    const b = await official().fetchV2({});
    expect(a).toStrictEqual(b);
    // Same keys in the same order (value included even when undefined).
    for (const k of Object.keys(b)) expect(Object.keys(a[k])).toEqual(Object.keys(b[k]));
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(a.json.value).toBe('{"a":[1,"two"]}');
    expect(a.num.value).toBe('42');
    expect(a.bool.value).toBe('false');
    expect(a.nul.value).toBeUndefined();
    expect('value' in a.nul).toBe(true);
  });

  it('the fixture JSON-valued flag arrives as a JSON string', async () => {
    const v = await client().fetchV2({}, { flagKeys: ['flag-json'] });
    expect(v['flag-json'].value).toBe('{"nested":[1,"two",null]}');
  });

  it('a __proto__ key in the response cannot replace the prototype', async () => {
    server.injectFaults('vardata', { body: '{"__proto__":{"key":"x"},"ok":{"key":"on"}}' });
    const v = await client().fetchV2({});
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v.ok.key).toBe('on');
  });
});

describe('fetchV2: failures and retries', () => {
  const fast = { fetchRetryBackoffMinMillis: 40, fetchRetryBackoffMaxMillis: 400, fetchRetryBackoffScalar: 2 };

  /** Gaps between consecutive vardata requests, ms. */
  const gaps = (): number[] => {
    const t = server.requests('vardata').map((r) => r.time);
    return t.slice(1).map((x, i) => x - t[i]);
  };

  it('fetchRetries defaults to 0: one request, then the typed error', async () => {
    server.injectFaults('vardata', { status: 503 });
    const e = await failure(client().fetchV2({ user_id: 'u' }));
    expect(e.statusCode).toBe(503);
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.message).toBe('Fetch error response: status=503');
    expect(e.attempts).toBe(1);
    expect(server.requests('vardata')).toHaveLength(1);
  });

  it.each([400, 401, 403, 404, 413, 422, 501])('%i is not retried', async (status) => {
    server.injectFaults('vardata', { status, times: Infinity });
    const e = await failure(client({ fetchRetries: 3, ...fast }).fetchV2({}));
    expect(e.statusCode).toBe(status);
    expect(e.attempts).toBe(1);
    expect(server.requests('vardata')).toHaveLength(1);
  });

  it('401 from a wrong key is not retried', async () => {
    const c = new RemoteEvaluationClient('wrong-key', { serverUrl: server.url, loggerProvider: silent, fetchRetries: 2 });
    track(c);
    expect((await failure(c.fetchV2({}))).statusCode).toBe(401);
    expect(server.requests('vardata')).toHaveLength(1);
  });

  it.each([408, 429, 500, 502, 503, 504, 302, 204])('%i is retried and the retry can succeed', async (status) => {
    server.injectFaults('vardata', { status, times: 2 });
    const v = await client({ fetchRetries: 3, ...fast }).fetchV2({ user_id: 'u' });
    expect(v['flag-on'].key).toBe('on');
    expect(server.requests('vardata')).toHaveLength(3);
  });

  it('retries follow the backoff schedule: min × scalar^n with upward jitter', async () => {
    server.injectFaults('vardata', { status: 500, times: Infinity });
    const e = await failure(client({ fetchRetries: 4, ...fast }).fetchV2({}));
    expect(e.statusCode).toBe(500);
    expect(e.attempts).toBe(5);
    expect(server.requests('vardata')).toHaveLength(5);
    // Scheduled sleeps: 40, 80, 160, 320 (+ up to 10%). Only lower bounds: a busy machine can be late, never early.
    const g = gaps();
    [40, 80, 160, 320].forEach((min, i) => expect(g[i]).toBeGreaterThanOrEqual(min - 2));
  });

  it('the delay is capped at fetchRetryBackoffMaxMillis', async () => {
    server.injectFaults('vardata', { status: 500, times: Infinity });
    const start = performance.now();
    await failure(
      client({
        fetchRetries: 3,
        fetchRetryBackoffMinMillis: 100,
        fetchRetryBackoffMaxMillis: 100,
        fetchRetryBackoffScalar: 10,
      }).fetchV2({}),
    );
    // Three sleeps of 100-110 ms: uncapped (100, 1000, 10000) would take over 11 s.
    expect(gaps().every((g) => g >= 98)).toBe(true);
    expect(performance.now() - start).toBeLessThan(10_000);
  });

  it('a 4xx during the retries stops them', async () => {
    server.injectFaults('vardata', { status: 500 }, { status: 400 });
    const e = await failure(client({ fetchRetries: 5, ...fast }).fetchV2({}));
    expect(e.statusCode).toBe(400);
    expect(e.attempts).toBe(2);
    expect(server.requests('vardata')).toHaveLength(2);
  });

  it("the final error is the last attempt's", async () => {
    server.injectFaults('vardata', { status: 500 }, { status: 502 }, { status: 429 });
    const e = await failure(client({ fetchRetries: 2, ...fast }).fetchV2({}));
    expect(e.statusCode).toBe(429);
    expect(e.attempts).toBe(3);
  });

  it('first attempt bounded by fetchTimeoutMillis, retries by fetchRetryTimeoutMillis', async () => {
    server.injectFaults('vardata', { delayMs: 400 }, { delayMs: 400 });
    const v = await client({
      fetchTimeoutMillis: 100,
      fetchRetries: 1,
      fetchRetryTimeoutMillis: 5000,
      ...fast,
    }).fetchV2({ user_id: 'u' });
    expect(v['flag-on'].key).toBe('on');
    expect(server.requests('vardata')).toHaveLength(2);
  });

  it('a timeout rejects with code TIMEOUT and no statusCode', async () => {
    server.injectFaults('vardata', { hang: true });
    const start = performance.now();
    const e = await failure(client({ fetchTimeoutMillis: 100 }).fetchV2({}));
    expect(e.code).toBe('TIMEOUT');
    expect(e.statusCode).toBeUndefined();
    expect(performance.now() - start).toBeGreaterThanOrEqual(95);
  });

  it('fetchTimeoutMillis 0 fails at once, as in the official SDK', async () => {
    const e = await failure(client({ fetchTimeoutMillis: 0 }).fetchV2({}));
    expect(e.code).toBe('TIMEOUT');
    expect(server.requests('vardata')).toHaveLength(0);
  });

  it('a slow body past the deadline is a timeout; within it, a success', async () => {
    server.injectFaults('vardata', { slowBodyMs: 3000 });
    expect((await failure(client({ fetchTimeoutMillis: 300 }).fetchV2({}))).code).toBe('TIMEOUT');
    server.injectFaults('vardata', { slowBodyMs: 100 });
    expect((await client({ fetchTimeoutMillis: 5000 }).fetchV2({}))['flag-on'].key).toBe('on');
  });

  it('a connection reset rejects with NETWORK and its cause, and is retried', async () => {
    server.injectFaults('vardata', { reset: true });
    const e = await failure(client().fetchV2({}));
    expect(e.code).toBe('NETWORK');
    expect(e.cause).toBeInstanceOf(Error);
    server.injectFaults('vardata', { reset: true }, { reset: true });
    expect((await client({ fetchRetries: 2, ...fast }).fetchV2({}))['flag-on'].key).toBe('on');
  });

  it('a truncated body rejects with NETWORK', async () => {
    server.injectFaults('vardata', { truncate: true });
    expect((await failure(client().fetchV2({}))).code).toBe('NETWORK');
  });

  it.each(['not json', '', '[1,2]', 'null', '42', '"text"'])('a garbage body %j rejects with INVALID_RESPONSE', async (body) => {
    server.injectFaults('vardata', { body });
    const e = await failure(client().fetchV2({}));
    expect(e.code).toBe('INVALID_RESPONSE');
    expect(e.statusCode).toBe(200);
  });

  it('a garbage body is retried', async () => {
    server.injectFaults('vardata', { body: 'not json' });
    expect((await client({ fetchRetries: 1, ...fast }).fetchV2({}))['flag-on'].key).toBe('on');
  });

  it('a refused connection rejects with NETWORK', async () => {
    const url = server.url;
    await server.close();
    const c = new RemoteEvaluationClient(API_KEY, { serverUrl: url, loggerProvider: silent });
    track(c);
    const e = await failure(c.fetchV2({}));
    expect(e.code).toBe('NETWORK');
    expect((e.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('an empty API key rejects before any request, as in the official SDK', async () => {
    const c = new RemoteEvaluationClient('', { serverUrl: server.url, loggerProvider: silent });
    track(c);
    await expect(c.fetchV2({})).rejects.toThrow('Experiment API key is empty');
    expect(await c.fetch({})).toEqual({});
    expect(server.requests()).toHaveLength(0);
  });

  it('a user that cannot be serialized rejects without a request', async () => {
    const user: Record<string, unknown> = { user_id: 'u' };
    user.self = user;
    await expect(client().fetchV2(user as ExperimentUser)).rejects.toThrow(TypeError);
    expect(server.requests()).toHaveLength(0);
  });
});

describe('close() and abort', () => {
  it('close() aborts an in-flight fetch with CLOSED and later fetches reject the same way', async () => {
    server.injectFaults('vardata', { hang: true });
    const c = client({ fetchTimeoutMillis: 60_000 });
    const p = failure(c.fetchV2({}));
    await server.waitForRequests('vardata', 1);
    const start = performance.now();
    await c.close();
    expect((await p).code).toBe('CLOSED');
    expect(performance.now() - start).toBeLessThan(30_000);
    expect(c.isClosed).toBe(true);
    expect((await failure(c.fetchV2({}))).code).toBe('CLOSED');
    expect(await c.fetch({})).toEqual({});
  });

  it('close() cuts a retry wait short', async () => {
    server.injectFaults('vardata', { status: 500, times: Infinity });
    const c = client({ fetchRetries: 3, fetchRetryBackoffMinMillis: 60_000, fetchRetryBackoffMaxMillis: 60_000 });
    const p = failure(c.fetchV2({}));
    await server.waitForRequests('vardata', 1);
    // Let the first failure land and the wait begin.
    await new Promise((r) => setTimeout(r, 50));
    const start = performance.now();
    await c.close();
    const e = await p;
    expect(e.code).toBe('CLOSED');
    expect((e.cause as FetchError).statusCode).toBe(500);
    expect(performance.now() - start).toBeLessThan(30_000);
    expect(server.requests('vardata')).toHaveLength(1);
  });

  it("the caller's signal aborts a request or a retry wait with ABORTED, logged at debug level, not as an error", async () => {
    server.injectFaults('vardata', { hang: true });
    const ac = new AbortController();
    const logger = capturingLogger();
    const p = failure(client({ fetchTimeoutMillis: 60_000, logger }).fetchV2({}, { signal: ac.signal }));
    await server.waitForRequests('vardata', 1);
    ac.abort();
    expect((await p).code).toBe('ABORTED');
    expect(logger.count('error', '')).toBe(0);
    expect(logger.count('debug', 'Fetch cancelled: Request aborted')).toBe(1);

    server.injectFaults('vardata', { status: 503, times: Infinity });
    const ac2 = new AbortController();
    const p2 = failure(client({ fetchRetries: 5, fetchRetryBackoffMinMillis: 60_000 }).fetchV2({}, { signal: ac2.signal }));
    await server.waitForRequests('vardata', 2);
    await new Promise((r) => setTimeout(r, 50));
    ac2.abort();
    expect((await p2).code).toBe('ABORTED');
  });

  it('close() leaves a caller-supplied dispatcher open', async () => {
    const { Agent } = await import('undici');
    const agent = new Agent();
    const c = client({ dispatcher: agent });
    await c.fetchV2({});
    await c.close();
    expect(agent.closed).toBe(false);
    await agent.close();
  });
});

describe('deprecated fetch and the callback forms', () => {
  it('fetch drops default variants, like the official fetch', async () => {
    const a = await client().fetch(fullUser);
    const b = await official().fetch(fullUser);
    expect(a).toStrictEqual(b);
    expect(a['flag-off']).toBeUndefined();
    expect(a['flag-on'].key).toBe('on');
  });

  it('fetch never rejects: {} on error', async () => {
    server.injectFaults('vardata', { status: 500 }, { reset: true }, { body: 'garbage' });
    const c = client();
    expect(await c.fetch({})).toEqual({});
    expect(await c.fetch({})).toEqual({});
    expect(await c.fetch({})).toEqual({});
  });

  it('fetchAsyncV2 calls back with (user, variants) on success', async () => {
    const user = { user_id: 'u' };
    const result = await new Promise<unknown[]>((resolve) => client().fetchAsyncV2(user, (...args) => resolve(args)));
    expect(result).toHaveLength(2);
    expect(result[0]).toBe(user);
    expect((result[1] as Record<string, { key: string }>)['flag-on'].key).toBe('on');
  });

  it('fetchAsyncV2 calls back with (user, {}, error) on failure', async () => {
    server.injectFaults('vardata', { status: 404 });
    const [, variants, error] = await new Promise<unknown[]>((resolve) => client().fetchAsyncV2({}, (...args) => resolve(args)));
    expect(variants).toEqual({});
    expect(error).toBeInstanceOf(FetchError);
    expect((error as FetchError).statusCode).toBe(404);
  });

  it('a throwing callback is logged, not an unhandled rejection', async () => {
    const error = vi.fn();
    const c = client({ loggerProvider: { ...silent, error } });
    c.fetchAsyncV2({}, () => {
      throw new Error('callback bug');
    });
    await server.waitForRequests('vardata', 1);
    await vi.waitFor(() => expect(error).toHaveBeenCalledWith(expect.stringMatching(/callback threw/), expect.any(Error)));
  });

  it('an async callback that rejects is logged, not an unhandled rejection', async () => {
    const error = vi.fn();
    const c = client({ loggerProvider: { ...silent, error } });
    c.fetchAsyncV2({}, async () => {
      await Promise.resolve();
      throw new Error('async callback bug');
    });
    await vi.waitFor(() =>
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/callback threw/), new Error('async callback bug')),
    );
  });

  it('a failure that is not an Error and cannot be made a string still reaches the callback as an Error', async () => {
    // A user whose toJSON throws a null-prototype object: fetchV2 rejects with that object; String() of it throws.
    const thrown: unknown = Object.create(null);
    const user = {
      toJSON() {
        throw thrown;
      },
    } as unknown as ExperimentUser;
    let args: unknown[] | undefined;
    client().fetchAsyncV2(user, (...a) => void (args = a));
    await vi.waitFor(() => expect(args).toBeDefined());
    const [, variants, error] = args!;
    expect(variants).toEqual({});
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('[object Object]');
    expect((error as Error).cause).toBe(thrown);
  });

  it('fetchAsyncV2 passes fetch options; fetchAsync drops defaults', async () => {
    const v2 = await new Promise<Record<string, unknown>>((resolve) =>
      client().fetchAsyncV2({}, (_u, v) => resolve(v), { flagKeys: ['flag-off'] }),
    );
    expect(Object.keys(v2)).toEqual(['flag-off']);
    const v1 = await new Promise<Record<string, unknown>>((resolve) =>
      client().fetchAsync({}, (_u, v) => resolve(v), { flagKeys: ['flag-off', 'flag-on'] }),
    );
    expect(Object.keys(v1)).toEqual(['flag-on']);
  });

  it('ExperimentClient is the deprecated alias', async () => {
    const c = new ExperimentClient(API_KEY, { serverUrl: server.url, loggerProvider: silent });
    track(c);
    expect(c).toBeInstanceOf(RemoteEvaluationClient);
    expect((await c.fetchV2({}))['flag-on'].key).toBe('on');
  });
});

describe('concurrency', () => {
  it('64 concurrent fetches all succeed with the right per-user results', async () => {
    const c = client();
    const users = Array.from({ length: 64 }, (_, i) => ({
      device_id: `d-${i}`,
      user_properties: { premium: i % 2 === 0 ? 'true' : 'false' },
    }));
    const results = await Promise.all(users.map((u) => c.fetchV2(u)));
    results.forEach((r, i) => expect(r['flag-premium'].key).toBe(i % 2 === 0 ? 'treatment' : 'off'));
    // A pool, not a connection per request... nor one connection for all.
    const ports = new Set(server.requests('vardata').map((r) => r.remotePort));
    expect(ports.size).toBeGreaterThan(1);
    expect(ports.size).toBeLessThanOrEqual(64);
  });

  it('connectionPoolMaxSize bounds the connections', async () => {
    const c = client({ connectionPoolMaxSize: 2 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.fetchV2({ device_id: `d${i}` })));
    expect(new Set(server.requests('vardata').map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });
});
