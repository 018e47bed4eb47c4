import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FetchError, HttpClient, type HttpClientOptions, splitUrl } from '../../src/util/http';
import { FLAGS } from '../dev-server/fixtures';
import { eventually, guardUnhandledRejections, useLocalServer, useTempDir } from '../support';
import { makeTlsFiles } from '../support/redis';

guardUnhandledRejections();

// Every behaviour holds for both transports: undici, and Node's http (nodeHttp, background clients).
const TRANSPORTS: Array<[string, HttpClientOptions]> = [
  ['undici', {}],
  ['node http', { nodeHttp: true }],
];

let client: HttpClient;
const server = useLocalServer({ flags: FLAGS });

async function rejection(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FetchError);
    return e as FetchError;
  }
  throw new Error('expected a rejection');
}

describe.each(TRANSPORTS)('HttpClient (%s)', (_transport, base) => {
  beforeEach(() => {
    client = new HttpClient(base);
  });
  // Here, not for the whole file: the TLS tests below make their own clients, and may run first (shuffled).
  afterEach(async () => {
    await client.close();
  });

  it('GET returns status, headers and the whole body', async () => {
    const res = await client.request({ url: server.url + '/sdk/v2/flags', headers: { 'X-Custom': 'v' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString('utf8'))).toEqual(FLAGS);
    expect(server.requests('flags')[0].headers['x-custom']).toBe('v');
  });

  it('origin + path works like url', async () => {
    const { origin, path } = splitUrl(server.url + '/sdk/v2/flags?v=0');
    expect(path).toBe('/sdk/v2/flags?v=0');
    const res = await client.request({ origin, path });
    expect(res.status).toBe(200);
    expect(server.requests('flags')[0].url).toBe('/sdk/v2/flags?v=0');
  });

  it('POST sends the body', async () => {
    const body = JSON.stringify({ api_key: 'k', events: [{ event_type: 'e' }] });
    const res = await client.request({
      url: server.url + '/2/httpapi',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(server.events()).toEqual([{ event_type: 'e' }]);
  });

  it('non-2xx statuses are returned, not thrown', async () => {
    server.injectFaults('flags', { status: 503, body: 'unavailable' });
    const res = await client.request({ url: server.url + '/sdk/v2/flags' });
    expect(res.status).toBe(503);
    expect(res.body.toString()).toBe('unavailable');
  });

  it('keeps connections alive between requests', async () => {
    for (let i = 0; i < 10; i++) await client.request({ url: server.url + '/sdk/v2/flags' });
    const ports = new Set(server.requests('flags').map((r) => r.remotePort));
    // undici may open a second connection while the first is being released; never one per request.
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it('a total deadline: rejects with TIMEOUT when no response arrives in time', async () => {
    server.injectFaults('flags', { hang: true });
    const start = performance.now();
    const e = await rejection(client.request({ url: server.url + '/sdk/v2/flags', timeoutMillis: 100 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.statusCode).toBeUndefined();
    expect(e.message).toMatch(/timed out after 100 ms/);
    expect(performance.now() - start).toBeGreaterThanOrEqual(95);
  });

  it('the deadline covers the body too (slow body)', async () => {
    server.injectFaults('flags', { slowBodyMs: 2000 });
    const e = await rejection(client.request({ url: server.url + '/sdk/v2/flags', timeoutMillis: 200 }));
    expect(e.code).toBe('TIMEOUT');
  });

  it('timeoutMillis 0 fails at once without sending', async () => {
    const e = await rejection(client.request({ url: server.url + '/sdk/v2/flags', timeoutMillis: 0 }));
    expect(e.code).toBe('TIMEOUT');
    expect(server.requests()).toHaveLength(0);
  });

  it('a reset connection rejects with NETWORK and the cause', async () => {
    server.injectFaults('flags', { reset: true });
    const e = await rejection(client.request({ url: server.url + '/sdk/v2/flags' }));
    expect(e.code).toBe('NETWORK');
    expect(e.cause).toBeInstanceOf(Error);
    // The client recovers on a new connection.
    expect((await client.request({ url: server.url + '/sdk/v2/flags' })).status).toBe(200);
  });

  it('a truncated body rejects with NETWORK', async () => {
    server.injectFaults('flags', { truncate: true });
    const e = await rejection(client.request({ url: server.url + '/sdk/v2/flags' }));
    expect(e.code).toBe('NETWORK');
  });

  it('a refused connection rejects with NETWORK', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const e = await rejection(client.request({ url: `http://127.0.0.1:${port}/x`, timeoutMillis: 5000 }));
    expect(e.code).toBe('NETWORK');
    expect((e.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it("the caller's signal aborts with ABORTED (already aborted or during the request)", async () => {
    server.injectFaults('flags', { hang: true });
    const ac = new AbortController();
    const p = client.request({ url: server.url + '/sdk/v2/flags', signal: ac.signal });
    await server.waitForRequests('flags', 1);
    ac.abort(new Error('user gave up'));
    const e = await rejection(p);
    expect(e.code).toBe('ABORTED');
    expect((e.cause as Error).message).toBe('user gave up');

    const done = new AbortController();
    done.abort();
    expect((await rejection(client.request({ url: server.url + '/sdk/v2/flags', signal: done.signal }))).code).toBe('ABORTED');
  });

  it('close() aborts in-flight requests with CLOSED, and later requests fail the same way', async () => {
    server.injectFaults('flags', { hang: true, times: 3 });
    const pending = [1, 2, 3].map(() => rejection(client.request({ url: server.url + '/sdk/v2/flags', timeoutMillis: 60_000 })));
    await server.waitForRequests('flags', 3);
    const start = performance.now();
    await client.close();
    for (const e of await Promise.all(pending)) expect(e.code).toBe('CLOSED');
    expect(performance.now() - start).toBeLessThan(30_000);
    expect(client.isClosed).toBe(true);
    expect((await rejection(client.request({ url: server.url + '/sdk/v2/flags' }))).code).toBe('CLOSED');
    await client.close(); // idempotent
  });

  it('uses a caller-supplied dispatcher and leaves it open on close()', async () => {
    const agent = new Agent();
    const own = new HttpClient({ dispatcher: agent });
    expect((await own.request({ url: server.url + '/sdk/v2/flags' })).status).toBe(200);
    await own.close();
    expect(agent.closed).toBe(false);
    expect((await agent.request({ origin: server.url, path: '/sdk/v2/flags', method: 'GET' })).statusCode).toBe(200);
    await agent.close();
  });

  it('connections limits the pool', async () => {
    const limited = new HttpClient({ ...base, connections: 1 });
    server.injectFaults('flags', { delayMs: 30, times: 4 });
    await Promise.all([1, 2, 3, 4].map(() => limited.request({ url: server.url + '/sdk/v2/flags' })));
    expect(new Set(server.requests('flags').map((r) => r.remotePort)).size).toBe(1);
    await limited.close();
  });

  /** An SSE route that sends one event, then `then` (nothing: the stream stays open). */
  function sse(then?: (res: import('node:http').ServerResponse) => void): string {
    server.addRoute({
      name: 'sse',
      methods: ['GET'],
      path: '/test/sse',
      handler: (ctx) => {
        ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
        ctx.res.write('data: one\n\n', () => then?.(ctx.res));
        return undefined;
      },
    });
    return server.url + '/test/sse';
  }

  it('stream() hands over the body as it arrives; abort() ends it', async () => {
    const url = sse();
    // The deadline is a setTimeout: on a fake clock the test moves past it instead of waiting it out.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const s = await client.stream({ url, timeoutMillis: 1000 });
      expect(s.status).toBe(200);
      const first = await new Promise<string>((resolve) => s.body.once('data', (c: Buffer) => resolve(c.toString())));
      expect(first).toBe('data: one\n\n');
      // The headers deadline no longer applies once the stream is open.
      vi.advanceTimersByTime(2000);
      await new Promise((r) => setImmediate(r));
      expect(s.body.destroyed).toBe(false);
      s.abort();
      expect(s.body.destroyed).toBe(true);
      // The same clock does govern the deadline while the headers are awaited.
      server.injectFaults('flags', { hang: true });
      const waiting = rejection(client.stream({ url: server.url + '/sdk/v2/flags', timeoutMillis: 1000 }));
      vi.advanceTimersByTime(1000);
      expect((await waiting).code).toBe('TIMEOUT');
    } finally {
      vi.useRealTimers();
    }
  });

  it('stream() times out waiting for headers', async () => {
    server.injectFaults('flags', { hang: true });
    const e = await rejection(client.stream({ url: server.url + '/sdk/v2/flags', timeoutMillis: 100 }));
    expect(e.code).toBe('TIMEOUT');
  });

  describe('an open stream', () => {
    const bodyError = (body: NodeJS.ReadableStream): Promise<unknown> => new Promise((resolve) => body.once('error', resolve));

    it('close() of the client fails its body with code CLOSED', async () => {
      const s = await client.stream({ url: sse() });
      const failed = bodyError(s.body);
      await client.close();
      expect(await failed).toMatchObject({ name: 'FetchError', code: 'CLOSED' });
      expect(s.body.destroyed).toBe(true);
    });

    it("the caller's signal fails its body with code ABORTED", async () => {
      const caller = new AbortController();
      const s = await client.stream({ url: sse(), signal: caller.signal });
      const failed = bodyError(s.body);
      caller.abort(new Error('user gave up'));
      expect(await failed).toMatchObject({ name: 'FetchError', code: 'ABORTED', message: expect.stringMatching(/user gave up/) });
    });

    it('abort(reason) of a body nobody reads ends it without an uncaught error', async () => {
      const s = await client.stream({ url: sse() });
      s.abort(new FetchError(undefined, 'not wanted', { code: 'ABORTED' }));
      await new Promise((resolve) => s.body.once('close', resolve));
      expect(s.body.destroyed).toBe(true);
    });

    it('abort(reason) while the body is read rejects the reader with that reason (a body deadline)', async () => {
      const s = await client.stream({ url: sse() });
      const chunks: string[] = [];
      const read = (async () => {
        for await (const chunk of s.body) chunks.push(String(chunk));
      })();
      await eventually(() => chunks.length === 1, 2000, 'first chunk');
      const reason = new FetchError(undefined, 'cohort response body timed out', { code: 'TIMEOUT' });
      s.abort(reason);
      await expect(read).rejects.toBe(reason);
    });

    it('the server dropping the connection mid-body fails the body', async () => {
      const s = await client.stream({ url: sse((res) => res.socket?.destroy()) });
      const read = (async () => {
        for await (const _chunk of s.body);
      })();
      await expect(read).rejects.toThrow();
    });

    it('outlives the idle keep-alive timeout of the connections: a busy connection is not idle', async () => {
      const short = new HttpClient({ ...base, keepAliveTimeoutMillis: 20 });
      const s = await short.stream({ url: sse() });
      const chunks: string[] = [];
      s.body.on('data', (c: Buffer) => chunks.push(c.toString()));
      await new Promise((r) => setTimeout(r, 200));
      expect(s.body.destroyed).toBe(false);
      expect(chunks.join('')).toBe('data: one\n\n');
      s.abort();
      await short.close();
    });
  });

  it('FetchError carries statusCode, code, cause and attempts', () => {
    const cause = new Error('x');
    const e = new FetchError(503, 'Fetch error response: status=503', { cause, attempts: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('FetchError');
    expect(e.statusCode).toBe(503);
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.cause).toBe(cause);
    expect(e.attempts).toBe(3);
    expect(new FetchError(undefined, 'down').code).toBe('NETWORK');
  });
});

// A caller's httpAgent carries https requests and streams whichever transport the client would use otherwise.
describe.each(TRANSPORTS)('HttpClient (%s) over TLS', (_transport, base) => {
  let https: HttpsServer;
  let url: string;
  let ca: string;
  const certs = useTempDir('tls');
  beforeEach(async () => {
    const files = await makeTlsFiles(certs.path);
    ca = readFileSync(files.ca, 'utf8');
    https = createHttpsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(https.address() as { port: number }).port}`;
  });
  afterEach(async () => {
    https.closeAllConnections();
    await new Promise((resolve) => https.close(resolve));
  });

  it("request() and stream() go through the caller's httpAgent (trusting its CA), and close() leaves it open", async () => {
    const agent = new HttpsAgent({ ca, keepAlive: true });
    const destroy = vi.spyOn(agent, 'destroy');
    const trusting = new HttpClient({ ...base, httpAgent: agent });
    const res = await trusting.request({ url: url + '/a?b=1', method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ path: '/a?b=1', method: 'POST' });
    const stream = await trusting.stream({ url: url + '/s' });
    expect(stream.status).toBe(200);
    stream.abort();
    await trusting.close();
    expect(destroy).not.toHaveBeenCalled();
    agent.destroy();

    const strict = new HttpClient(base);
    expect((await rejection(strict.request({ url: url + '/a' }))).code).toBe('NETWORK');
    expect((await rejection(strict.stream({ url: url + '/a' }))).code).toBe('NETWORK');
    await strict.close();
  });
});
