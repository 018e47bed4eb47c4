import { type IncomingMessage, request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer as createNetServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalServer } from '../../src/dev-server';
import type { LocalServer, Route } from '../../src/dev-server';
import { createJsEngine } from '../../src/engine/js-engine';
import { afterThisTurn } from '../support';
import { API_KEY, FLAGS } from './fixtures';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain node:http client, so these tests do not depend on the SDK's own HTTP code. */
function send(
  server: LocalServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      server.url + path,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
const auth = { Authorization: `Api-Key ${API_KEY}` };

let server: LocalServer;

afterEach(async () => {
  await server?.close();
});

describe('local server: basics', () => {
  beforeEach(async () => {
    server = await createLocalServer({ flags: FLAGS });
  });

  it('listens on 127.0.0.1 on a free port', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('serves the flags as a JSON array', async () => {
    const r = await send(server, '/sdk/v2/flags', { headers: auth });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual(FLAGS);
  });

  it('ignores the query string (the Python SDK sends ?v=0)', async () => {
    const r = await send(server, '/sdk/v2/flags?v=0');
    expect(JSON.parse(r.body)).toEqual(FLAGS);
  });

  it('setFlags replaces the flags; raw text is served verbatim, even when invalid', async () => {
    server.setFlags([FLAGS[0]]);
    expect(JSON.parse((await send(server, '/sdk/v2/flags')).body)).toEqual([FLAGS[0]]);
    server.setFlags('{"not": "an array"');
    expect((await send(server, '/sdk/v2/flags')).body).toBe('{"not": "an array"');
  });

  it('404 for unknown paths, 405 for a known path with another method', async () => {
    expect((await send(server, '/nope')).status).toBe(404);
    expect((await send(server, '/sdk/v2/flags', { method: 'DELETE' })).status).toBe(405);
    expect((await send(server, '/2/httpapi')).status).toBe(405);
  });
});

describe('local server: authorization', () => {
  beforeEach(async () => {
    server = await createLocalServer({ flags: FLAGS, apiKeys: [API_KEY, 'second-key'] });
  });

  it.each(['/sdk/v2/flags', `/sdk/v2/vardata?v=0`])('%s: 401 without a key, with a wrong key or scheme', async (path) => {
    const user = { 'X-Amp-Exp-User': b64url({ user_id: 'u' }) };
    expect((await send(server, path, { headers: user })).status).toBe(401);
    expect((await send(server, path, { headers: { ...user, Authorization: 'Api-Key wrong' } })).status).toBe(401);
    expect((await send(server, path, { headers: { ...user, Authorization: `Bearer ${API_KEY}` } })).status).toBe(401);
    expect((await send(server, path, { headers: { ...user, ...auth } })).status).toBe(200);
    expect((await send(server, path, { headers: { ...user, Authorization: 'Api-Key second-key' } })).status).toBe(200);
  });
});

describe('local server: /sdk/v2/vardata', () => {
  const engine = createJsEngine();
  const snapshot = engine.load(JSON.stringify(FLAGS));

  beforeEach(async () => {
    server = await createLocalServer({ flags: FLAGS });
  });

  const users = [
    {},
    { user_id: 'u1', device_id: 'd1' },
    { device_id: 'device-xyz', user_properties: { premium: 'true' } },
    { user_id: 'ユーザー', groups: { 'org name': ['Amplitude'] } },
    {
      user_id: 'g',
      groups: { 'org name': ['Other'] },
      group_properties: { 'org name': { Other: { plan: 'enterprise' } } },
    },
  ];

  it.each(users)('GET with X-Amp-Exp-User evaluates like the engine: %j', async (user) => {
    const r = await send(server, '/sdk/v2/vardata?v=0', { headers: { 'X-Amp-Exp-User': b64url(user) } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual(JSON.parse(JSON.stringify(snapshot.evaluate(user))));
  });

  it('evaluates group targeting by name and by group property', async () => {
    const byName = JSON.parse((await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url(users[3]) } })).body);
    expect(byName['flag-group'].key).toBe('on');
    const byProp = JSON.parse((await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url(users[4]) } })).body);
    expect(byProp['flag-group'].key).toBe('on');
    const none = JSON.parse((await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url(users[1]) } })).body);
    expect(none['flag-group'].key).toBe('off');
    expect(none['flag-group'].metadata.default).toBe(true);
  });

  it('X-Amp-Exp-Flag-Keys limits the result to those flags and their dependencies', async () => {
    const r = await send(server, '/sdk/v2/vardata', {
      headers: { 'X-Amp-Exp-User': b64url({ user_id: 'u' }), 'X-Amp-Exp-Flag-Keys': b64url(['flag-dependent']) },
    });
    const body = JSON.parse(r.body);
    expect(Object.keys(body).sort()).toEqual(['flag-dependent', 'flag-on']);
    expect(body['flag-dependent'].key).toBe('on');
  });

  it('POST with the user as JSON body (Python SDK style)', async () => {
    const user = { device_id: 'device-xyz', user_properties: { premium: 'true' } };
    const r = await send(server, '/sdk/v2/vardata?v=0', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)['flag-premium'].key).toBe('treatment');
  });

  it('400 for a missing or undecodable user, or bad flag keys', async () => {
    expect((await send(server, '/sdk/v2/vardata')).status).toBe(400);
    expect((await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': '!!!' } })).status).toBe(400);
    expect((await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url([1]) } })).status).toBe(400);
    const r = await send(server, '/sdk/v2/vardata', {
      headers: { 'X-Amp-Exp-User': b64url({}), 'X-Amp-Exp-Flag-Keys': b64url({ not: 'array' }) },
    });
    expect(r.status).toBe(400);
  });

  it('setFlags changes the evaluation (no stale cached answers)', async () => {
    const headers = { 'X-Amp-Exp-User': b64url({ user_id: 'u' }) };
    expect(Object.keys(JSON.parse((await send(server, '/sdk/v2/vardata', { headers })).body))).toHaveLength(FLAGS.length);
    server.setFlags([FLAGS[0]]);
    expect(Object.keys(JSON.parse((await send(server, '/sdk/v2/vardata', { headers })).body))).toEqual(['flag-on']);
  });

  it('500 with a message when the flags cannot be loaded', async () => {
    server.setFlags('not json');
    const r = await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url({}) } });
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body).error).toMatch(/evaluation failed/);
  });

  it('accepts users larger than 8 KB in the header', async () => {
    const user = { user_id: 'big', user_properties: { blob: 'x'.repeat(20000) } };
    const r = await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url(user) } });
    expect(r.status).toBe(200);
  });

  it('uses an injected engine', async () => {
    await server.close();
    let loads = 0;
    server = await createLocalServer({
      flags: FLAGS,
      engine: {
        kind: 'js',
        load(payload) {
          loads++;
          return engine.load(payload);
        },
      },
    });
    const headers = { 'X-Amp-Exp-User': b64url({ user_id: 'u' }) };
    await send(server, '/sdk/v2/vardata', { headers });
    await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url({ user_id: 'v' }) } });
    expect(loads).toBe(1);
  });
});

describe('local server: /2/httpapi', () => {
  beforeEach(async () => {
    server = await createLocalServer();
  });

  const batch = {
    api_key: 'analytics-key',
    events: [
      { event_type: '[Experiment] Exposure', user_id: 'u', event_properties: { '[Experiment] Flag Key': 'f' } },
      { event_type: '[Experiment] Exposure', device_id: 'd', insert_id: 'x' },
    ],
    options: { min_id_length: 1 },
  };

  it('captures events and answers like Amplitude', async () => {
    const r = await send(server, '/2/httpapi', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({ code: 200, events_ingested: 2, payload_size_bytes: JSON.stringify(batch).length });
    expect(typeof body.server_upload_time).toBe('number');
    expect(server.events()).toEqual(batch.events);
    expect(server.eventBatches()[0]).toMatchObject({ apiKey: 'analytics-key', options: batch.options });
    server.clearEvents();
    expect(server.events()).toEqual([]);
  });

  it('accepts a gzip body and the /batch endpoint', async () => {
    const r = await send(server, '/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(batch)),
    });
    expect(r.status).toBe(200);
    expect(server.events()).toHaveLength(2);
  });

  it('a gzip body that decompresses past the body limit (a gzip bomb) is refused with 413, not kept', async () => {
    // Valid JSON once decompressed: 25 MB of padding, about 25 KB gzipped (the 20 MB limit applied only to the latter).
    const bomb = gzipSync(`{"api_key":"k","events":[{"event_type":"e"}],"pad":"${' '.repeat(25 * 1024 * 1024)}"}`);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const r = await send(server, '/2/httpapi', { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: bomb });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual({
      code: 413,
      error: 'Request body too large: more than 20971520 bytes once decompressed',
    });
    expect(server.events()).toEqual([]);
  });

  it('keeps about the last maxCapturedBatches batches (oldest dropped)', async () => {
    await server.close();
    server = await createLocalServer({ maxCapturedBatches: 5 });
    for (let i = 0; i < 23; i++) {
      const body = JSON.stringify({ api_key: 'k', events: [{ event_type: `e${i}` }] });
      expect((await send(server, '/2/httpapi', { method: 'POST', body })).status).toBe(200);
    }
    const kept = server.eventBatches();
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(server.events().at(-1)).toEqual({ event_type: 'e22' });
  });

  it('400 for invalid JSON, a missing api_key or events', async () => {
    const post = (body: string) => send(server, '/2/httpapi', { method: 'POST', body });
    const bad = await post('{not json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ code: 400, error: 'Invalid JSON request body' });
    expect(JSON.parse((await post(JSON.stringify({ events: [] }))).body)).toMatchObject({ missing_field: 'api_key' });
    expect(JSON.parse((await post(JSON.stringify({ api_key: 'k' }))).body)).toMatchObject({ missing_field: 'events' });
    expect(server.events()).toEqual([]);
  });
});

describe('local server: fault injection', () => {
  beforeEach(async () => {
    server = await createLocalServer({ flags: FLAGS });
  });

  it('faults apply in order, once each, then normal service resumes', async () => {
    server.injectFaults('flags', { status: 500 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 503 });
    expect(server.pendingFaults('flags')).toBe(3);
    const a = await send(server, '/sdk/v2/flags');
    const b = await send(server, '/sdk/v2/flags');
    const c = await send(server, '/sdk/v2/flags');
    const d = await send(server, '/sdk/v2/flags');
    expect([a.status, b.status, c.status, d.status]).toEqual([500, 429, 503, 200]);
    expect(b.headers['retry-after']).toBe('2');
    expect(JSON.parse(d.body)).toEqual(FLAGS);
    expect(server.pendingFaults('flags')).toBe(0);
  });

  it('faults are per route and can be addressed by path', async () => {
    server.injectFaults('/sdk/v2/vardata', { status: 502 });
    expect((await send(server, '/sdk/v2/flags')).status).toBe(200);
    const r = await send(server, '/sdk/v2/vardata', { headers: { 'X-Amp-Exp-User': b64url({}) } });
    expect(r.status).toBe(502);
  });

  it('times: n repeats a fault, Infinity keeps it until cleared', async () => {
    server.injectFaults('flags', { status: 500, times: 2 });
    const s1 = [(await send(server, '/sdk/v2/flags')).status, (await send(server, '/sdk/v2/flags')).status];
    expect(s1).toEqual([500, 500]);
    expect((await send(server, '/sdk/v2/flags')).status).toBe(200);
    server.injectFaults('flags', { status: 503, times: Infinity });
    for (let i = 0; i < 5; i++) expect((await send(server, '/sdk/v2/flags')).status).toBe(503);
    server.clearFaults('flags');
    expect((await send(server, '/sdk/v2/flags')).status).toBe(200);
  });

  it('body replaces the response body (status 200 unless given)', async () => {
    server.injectFaults('flags', { body: 'not json' }, { body: '[]', status: 202 });
    const a = await send(server, '/sdk/v2/flags');
    expect([a.status, a.body]).toEqual([200, 'not json']);
    const b = await send(server, '/sdk/v2/flags');
    expect([b.status, b.body]).toEqual([202, '[]']);
  });

  it('delayMs delays the response', async () => {
    server.injectFaults('flags', { delayMs: 150 });
    const start = performance.now();
    const r = await send(server, '/sdk/v2/flags');
    expect(r.status).toBe(200);
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
  });

  it('reset destroys the connection without a response', async () => {
    server.injectFaults('flags', { reset: true });
    await expect(send(server, '/sdk/v2/flags')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await send(server, '/sdk/v2/flags')).status).toBe(200);
  });

  it('truncate sends half the body with the full content-length, then drops the connection', async () => {
    server.injectFaults('flags', { truncate: true });
    const received: Buffer[] = [];
    const outcome = await new Promise<{ error?: Error; length?: string }>((resolve) => {
      const req = httpRequest(server.url + '/sdk/v2/flags', { agent: false }, (res) => {
        res.on('data', (c: Buffer) => received.push(c));
        res.on('error', (error) => resolve({ error, length: res.headers['content-length'] }));
        res.on('end', () => resolve({ length: res.headers['content-length'] }));
      });
      req.on('error', (error) => resolve({ error }));
      req.end();
    });
    const full = JSON.stringify(FLAGS).length;
    expect(outcome.error).toBeDefined();
    expect(Number(outcome.length)).toBe(full);
    expect(Buffer.concat(received).length).toBe(Math.floor(full / 2));
  });

  it('slowBodyMs spreads the body over time and still delivers all of it', async () => {
    server.injectFaults('flags', { slowBodyMs: 200 });
    const start = performance.now();
    const r = await send(server, '/sdk/v2/flags');
    expect(JSON.parse(r.body)).toEqual(FLAGS);
    // 10 pieces, a 20 ms pause after each but the last write; allow timer slack.
    expect(performance.now() - start).toBeGreaterThanOrEqual(150);
  });

  it('hang never answers; close() ends the hanging request', async () => {
    server.injectFaults('flags', { hang: true });
    const pending = send(server, '/sdk/v2/flags');
    await server.waitForRequests('flags', 1);
    await server.close();
    await expect(pending).rejects.toBeDefined();
  });

  it('the applied fault is recorded in the request log', async () => {
    server.injectFaults('flags', { status: 500 });
    await send(server, '/sdk/v2/flags');
    await send(server, '/sdk/v2/flags');
    const log = server.requests('flags');
    expect(log[0].fault).toMatchObject({ status: 500 });
    expect(log[0].status).toBe(500);
    expect(log[1].fault).toBeUndefined();
    expect(log[1].status).toBe(200);
  });
});

describe('local server: request log', () => {
  beforeEach(async () => {
    server = await createLocalServer({ flags: FLAGS });
  });

  it('records method, path, query, headers, body and monotonic times', async () => {
    const before = Date.now();
    await send(server, '/sdk/v2/flags?v=0', { headers: { ...auth, 'X-Test': 'yes' } });
    await send(server, '/2/httpapi', { method: 'POST', body: JSON.stringify({ api_key: 'k', events: [] }) });
    await send(server, '/unknown');
    const all = server.requests();
    expect(all.map((r) => [r.route, r.method, r.path])).toEqual([
      ['flags', 'GET', '/sdk/v2/flags'],
      ['httpapi', 'POST', '/2/httpapi'],
      [null, 'GET', '/unknown'],
    ]);
    expect(all[0].url).toBe('/sdk/v2/flags?v=0');
    expect(all[0].headers.authorization).toBe(`Api-Key ${API_KEY}`);
    expect(all[0].headers['x-test']).toBe('yes');
    expect(all[1].body).toBe('{"api_key":"k","events":[]}');
    expect(all[0].timestamp).toBeGreaterThanOrEqual(before);
    expect(all[1].time).toBeGreaterThanOrEqual(all[0].time);
    expect(all[2].status).toBe(404);
    expect(server.requests('/sdk/v2/flags')).toHaveLength(1);
    server.clearRequests();
    expect(server.requests()).toEqual([]);
  });

  it('waitForRequests resolves when the count is reached and rejects on timeout', async () => {
    const waiting = server.waitForRequests('flags', 2, 10_000);
    await send(server, '/sdk/v2/flags');
    await send(server, '/sdk/v2/flags');
    expect(await waiting).toHaveLength(2);
    await expect(server.waitForRequests('flags', 5, 50)).rejects.toThrow(/2 of 5/);
  });

  it('logRequests: false keeps no log', async () => {
    await server.close();
    server = await createLocalServer({ logRequests: false });
    await send(server, '/sdk/v2/flags');
    expect(server.requests()).toEqual([]);
  });

  it('keeps at most about twice maxLoggedRequests entries', async () => {
    await server.close();
    server = await createLocalServer({ maxLoggedRequests: 5 });
    for (let i = 0; i < 23; i++) await send(server, '/sdk/v2/flags');
    const n = server.requests().length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(10);
  });
});

describe('local server: routes and lifecycle', () => {
  it('extra routes with :params, overriding a default route by name, addRoute at run time', async () => {
    const cohort: Route = {
      name: 'cohort',
      methods: ['GET'],
      path: '/sdk/v1/cohort/:id',
      handler: (ctx) => ({
        status: 200,
        body: JSON.stringify({ id: ctx.params.id, q: ctx.url.searchParams.get('maxCohortSize') }),
      }),
    };
    const flags: Route = { name: 'flags', methods: ['GET'], path: '/sdk/v2/flags', handler: () => ({ status: 204 }) };
    server = await createLocalServer({ routes: [cohort, flags] });
    const r = await send(server, '/sdk/v1/cohort/abc%20d?maxCohortSize=10');
    expect(JSON.parse(r.body)).toEqual({ id: 'abc d', q: '10' });
    expect((await send(server, '/sdk/v2/flags')).status).toBe(204);
    server.injectFaults('cohort', { status: 413 });
    expect((await send(server, '/sdk/v1/cohort/x')).status).toBe(413);
    server.addRoute({ name: 'hello', methods: ['GET'], path: '/hello', handler: () => ({ status: 200, body: 'hi' }) });
    expect((await send(server, '/hello')).body).toBe('hi');
  });

  it('a route can stream its own response and is told when the server closes', async () => {
    let ended = false;
    server = await createLocalServer({
      routes: [
        {
          name: 'stream',
          methods: ['GET'],
          path: '/sdk/stream/v1/flags',
          handler: (ctx) => {
            ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
            ctx.res.write('data: []\n\n');
            void ctx.closing.then(() => {
              ended = true;
              ctx.res.end();
            });
            return undefined;
          },
        },
      ],
    });
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(server.url + '/sdk/stream/v1/flags', { agent: false }, (res) => {
        res.once('data', (c: Buffer) => resolve(c.toString()));
        res.on('error', () => undefined);
      });
      req.on('error', reject);
      req.end();
    });
    expect(first).toBe('data: []\n\n');
    await server.close();
    expect(ended).toBe(true);
  });

  it('a flag stream the client closed is released at once, not held until the server closes', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    server = await createLocalServer({ flags: FLAGS });
    const streams = (server.state.streams as unknown as { connections: Set<{ res: object }> }).connections;
    const req = httpRequest(server.url + '/sdk/stream/v1/flags', { agent: false });
    const opened = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    req.end();
    (await opened).on('error', () => undefined);
    expect(streams.size).toBe(1);
    const response = new WeakRef([...streams][0].res);
    req.destroy();
    while (server.openStreams > 0) await afterThisTurn();
    for (let i = 0; i < 20 && response.deref() !== undefined; i++) {
      await afterThisTurn();
      gc();
    }
    expect(response.deref()).toBeUndefined();
  });

  it('close() frees the port, ends idle keep-alive connections and is idempotent', async () => {
    server = await createLocalServer();
    const port = server.port;
    await send(server, '/sdk/v2/flags');
    await server.close();
    await server.close();
    // The port can be bound again at once.
    await new Promise<void>((resolve, reject) => {
      const s = createNetServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it('a requested port is used; a busy port is an error', async () => {
    server = await createLocalServer();
    await expect(createLocalServer({ port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
