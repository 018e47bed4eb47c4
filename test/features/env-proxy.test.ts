/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY (proxyFromEnv): every request of the local client (flags, stream,
 * cohorts, tracked events) and of the remote client goes through a local forward proxy, which records the
 * tunnels it opens; the dev server's request log shows each request arriving from one of the proxy's sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { join, resolve } from 'node:path';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { runNodeScript } from '../support/child';
import { createLocalServer, type LocalServer } from '../../src/dev-server';
import { RemoteEvaluationClient } from '../../src/remote';
import { API_KEY, capturingLogger, closeClients, cohortFlag, flag, guardUnhandledRejections, localClient } from '../support';

guardUnhandledRejections();

/** A forward proxy on 127.0.0.1: CONNECT tunnels and absolute-form requests, counted. */
class ForwardProxy {
  /** host:port of each CONNECT. */
  readonly tunnels: string[] = [];
  /** URL of each absolute-form request. */
  readonly forwarded: string[] = [];
  /** Local ports of the proxy's connections to targets (the dev server logs them as remotePort). */
  readonly upstreamPorts = new Set<number>();
  private readonly sockets = new Set<net.Socket>();
  private readonly server = http.createServer((req, res) => this.forward(req, res));

  async listen(): Promise<string> {
    this.server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => this.tunnel(req, client, head));
    this.server.on('connection', (s: net.Socket) => this.track(s));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  private tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
    const target = req.url ?? '';
    this.tunnels.push(target);
    const [host, port] = target.split(':');
    const upstream = net.connect(Number(port), host, () => {
      this.upstreamPorts.add(upstream.localPort!);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '');
    this.forwarded.push(url.href);
    const upstream = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: req.method,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('socket', (s) => s.on('connect', () => this.upstreamPorts.add(s.localPort!)));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let server: LocalServer;
let proxy: ForwardProxy;
let proxyUrl: string;
const remotes: RemoteEvaluationClient[] = [];

/** Point the environment at the proxy (lower-case names win in undici, so both are set). */
function useProxyEnv(noProxy = ''): void {
  for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy']) vi.stubEnv(name, proxyUrl);
  vi.stubEnv('NO_PROXY', noProxy);
  vi.stubEnv('no_proxy', noProxy);
}

const serverTarget = (): string => new URL(server.url).host;
/** Requests on a route that came through the proxy, and all requests on it. */
function viaProxy(route: string): { proxied: number; total: number } {
  const entries = server.requests(route);
  return {
    proxied: entries.filter((e) => e.remotePort !== undefined && proxy.upstreamPorts.has(e.remotePort)).length,
    total: entries.length,
  };
}

beforeEach(async () => {
  server = await createLocalServer({
    flags: [flag('a'), cohortFlag('c', 'c1')],
    apiKeys: [API_KEY],
    cohorts: [{ cohortId: 'c1', memberIds: ['u1'], lastModified: 1 }],
  });
  proxy = new ForwardProxy();
  proxyUrl = await proxy.listen();
  vi.stubEnv('NODE_USE_ENV_PROXY', '');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeClients();
  await Promise.all(remotes.splice(0).map((r) => r.close()));
  await proxy.close();
  await server.close();
});

const tracking = () => ({
  apiKey: 'analytics-key',
  serverUrl: server.url + '/2/httpapi',
  flushIntervalMillis: 60_000,
  flushQueueSize: 1000,
});

describe('proxyFromEnv', () => {
  it('sends flag polls, cohort downloads and tracked events through HTTP_PROXY', async () => {
    useProxyEnv();
    const c = localClient({
      serverUrl: server.url,
      proxyFromEnv: true,
      cohortSyncConfig: { apiKey: 'ck', secretKey: 'cs', cohortServerUrl: server.url },
      exposureConfig: tracking(),
    });
    await c.start();
    expect(c.evaluateV2({ user_id: 'u1' }, ['c'], { tracksExposure: true }).c.key).toBe('on');
    await c.close({ flushTimeoutMillis: 5000 });
    expect(proxy.tunnels).toContain(serverTarget());
    expect(proxy.forwarded).toEqual([]); // undici tunnels plain-http targets too (CONNECT)
    expect(viaProxy('flags')).toEqual({ proxied: 1, total: 1 });
    expect(viaProxy('cohort')).toEqual({ proxied: 1, total: 1 });
    expect(viaProxy('httpapi')).toEqual({ proxied: 1, total: 1 });
    expect(server.events()).toHaveLength(1);
  });

  it('streams flags through the proxy', async () => {
    useProxyEnv();
    const c = localClient({
      serverUrl: server.url,
      streamUpdates: true,
      streamServerUrl: server.url,
      proxyFromEnv: true,
      logger: capturingLogger(),
    });
    await c.start();
    expect(c.flagKeys().sort()).toEqual(['a', 'c']);
    expect(viaProxy('stream')).toEqual({ proxied: 1, total: 1 });
    expect(viaProxy('flags').total).toBe(0);
  });

  it('sends remote evaluation through the proxy', async () => {
    useProxyEnv();
    const r = new RemoteEvaluationClient(API_KEY, { serverUrl: server.url, proxyFromEnv: true });
    remotes.push(r);
    const variants = await r.fetchV2({ user_id: 'u9' });
    expect(variants.a?.key).toBe('on');
    expect(viaProxy('vardata')).toEqual({ proxied: 1, total: 1 });
  });

  it('goes direct for hosts in NO_PROXY, and when proxyFromEnv is off (the default)', async () => {
    useProxyEnv('localhost,127.0.0.1');
    await localClient({ serverUrl: server.url, proxyFromEnv: true, logger: capturingLogger() }).start();
    useProxyEnv();
    await localClient({ serverUrl: server.url, logger: capturingLogger() }).start();
    const r = new RemoteEvaluationClient(API_KEY, { serverUrl: server.url });
    remotes.push(r);
    await r.fetchV2({ user_id: 'u9' });
    expect(proxy.tunnels).toEqual([]);
    expect(viaProxy('flags')).toEqual({ proxied: 0, total: 2 });
    expect(viaProxy('vardata')).toEqual({ proxied: 0, total: 1 });
  });

  it('is on by default when NODE_USE_ENV_PROXY=1; a dispatcher wins, with a warning', async () => {
    useProxyEnv();
    vi.stubEnv('NODE_USE_ENV_PROXY', '1');
    await localClient({ serverUrl: server.url, logger: capturingLogger() }).start();
    expect(viaProxy('flags')).toEqual({ proxied: 1, total: 1 });
    const logger = capturingLogger();
    const { Agent } = await import('undici');
    const dispatcher = new Agent();
    await localClient({ serverUrl: server.url, dispatcher, proxyFromEnv: true, logger }).start();
    expect(viaProxy('flags')).toEqual({ proxied: 1, total: 2 });
    expect(logger.count('warn', 'proxyFromEnv is ignored because config.dispatcher is set')).toBe(1);
    await dispatcher.close();
  });

  it('connections through the proxy do not keep the process alive', async () => {
    // npm test builds dist/ first; the child is a user's script with the proxy in its environment.
    const client = join(resolve(__dirname, '..', '..'), 'dist', 'cjs', 'local', 'client.js');
    const script = `
      const { LocalEvaluationClient } = require(${JSON.stringify(client)});
      const url = ${JSON.stringify(server.url)};
      const c = new LocalEvaluationClient(${JSON.stringify(API_KEY)}, {
        serverUrl: url, streamUpdates: true, streamServerUrl: url, proxyFromEnv: true, logLevel: 0,
      });
      c.start().then(() => console.log('started', c.flagKeys().length), (e) => { console.log('failed', e.message); process.exitCode = 3; });
    `;
    const env = { ...process.env, HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, NO_PROXY: '', no_proxy: '' };
    const { code, out } = await runNodeScript(script, { env, timeoutMillis: 20_000 });
    expect(out).toContain('started 2');
    expect(code, out).toBe(0);
    expect(viaProxy('stream')).toEqual({ proxied: 1, total: 1 });
  }, 30_000);

  it('a proxy that refuses the tunnel is a clear start() failure, not a hang', async () => {
    vi.stubEnv('HTTP_PROXY', 'http://127.0.0.1:1');
    vi.stubEnv('http_proxy', 'http://127.0.0.1:1');
    vi.stubEnv('NO_PROXY', '');
    vi.stubEnv('no_proxy', '');
    const c = localClient({ serverUrl: server.url, proxyFromEnv: true, startTimeoutMillis: 1500, logger: capturingLogger() });
    await expect(c.start()).rejects.toThrow(/ECONNREFUSED|timed out/);
    expect(server.requests('flags')).toHaveLength(0);
  });
});
