/**
 * The project's local Amplitude-compatible server, for tests, development
 * and the quick start. node:http, bound to 127.0.0.1 on a free port by
 * default.
 *
 *   GET  /sdk/v2/flags       the configured flags (JSON array)
 *   GET  /sdk/v2/vardata     remote evaluation with this SDK's engine (POST too, Python style)
 *   GET  /sdk/stream/v1/flags  SSE flag stream (full flags per message, keep-alives)
 *   GET  /sdk/v1/cohort/:id  cohort download (Basic auth, maxCohortSize, lastModified)
 *   GET  /sdk/v2/memberships/:groupType/:groupName, GET /status  (evaluationProxy: true only)
 *   POST /2/httpapi, /batch  analytics events, captured for inspection
 *
 * Routes live in a table (src/dev-server/routes/*): add a route there and list
 * it in DEFAULT_ROUTES, or pass `routes` / call `addRoute`. Each route gets
 * fault injection and request logging for free.
 *
 *   const server = await createLocalServer({ flags, apiKeys: ['server-key'] });
 *   server.injectFaults('vardata', { status: 503 }, { reset: true });
 *   ...
 *   await server.close();
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine/types';
import { loadEngine } from '../engine';
import { Router } from './router';
import { ServerState } from './state';
import type { CapturedBatch, FlagsInput } from './state';
import type { Fault, RequestLogEntry, Route, RouteContext, RouteResponse } from './types';
import { flagsRoute } from './routes/flags';
import { vardataRoute } from './routes/vardata';
import { batchApiRoute, httpApiRoute } from './routes/httpapi';
import { streamRoute } from './routes/stream';
import { cohortRoute } from './routes/cohort';
import { membershipsRoute, statusRoute } from './routes/memberships';
import type { ServedCohort } from './state';
import type { StreamHubOptions } from './stream-hub';
import { jsonError, MAX_BODY_BYTES } from './routes/util';
import { errorMessage } from '../util/error-message';

export type { Fault, RequestLogEntry, Route, RouteContext, RouteResponse } from './types';
export type { CapturedBatch, FlagsInput, ServedCohort } from './state';
export type { StreamHubOptions } from './stream-hub';
export { ServerState } from './state';

/** The routes every server has. Extensions (stream, cohorts) are added here. */
export const DEFAULT_ROUTES: readonly Route[] = [
  flagsRoute,
  vardataRoute,
  streamRoute,
  cohortRoute,
  membershipsRoute,
  statusRoute,
  httpApiRoute,
  batchApiRoute,
];

export interface LocalServerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Initial flags: an array of flag configs, or raw JSON text. Default []. */
  flags?: FlagsInput;
  /** Deployment keys accepted (Authorization: Api-Key <key>); unset or empty: any. */
  apiKeys?: readonly string[];
  /** Cohorts served by /sdk/v1/cohort/:id. */
  cohorts?: readonly ServedCohort[];
  /** Cohort credentials accepted, as { apiKey, secretKey } pairs; unset or empty: any. */
  cohortKeys?: readonly { apiKey: string; secretKey: string }[];
  /**
   * Behave as Amplitude's evaluation-proxy: gzipped cohort bodies, the memberships endpoint and /status.
   * Default false.
   */
  evaluationProxy?: boolean;
  /** SSE stream behaviour (keep-alive interval, initial flags). */
  stream?: Partial<StreamHubOptions>;
  /** Evaluation engine for /sdk/v2/vardata. Default: this SDK's loadEngine(). */
  engine?: Engine;
  /** Extra routes, or replacements for default routes of the same name. */
  routes?: readonly Route[];
  /** Keep a request log. Default true (turn off for benchmarks). */
  logRequests?: boolean;
  /** Request log entries kept (oldest dropped). Default 10000. */
  maxLoggedRequests?: number;
  /** Analytics batches kept for events() / eventBatches() (oldest dropped). Default 10000. */
  maxCapturedBatches?: number;
}

export interface LocalServer {
  /** 'http://127.0.0.1:<port>' — use as serverUrl. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly state: ServerState;
  /** Replace the flags served (and evaluated). Accepts raw JSON text, served verbatim even if invalid. */
  setFlags(flags: FlagsInput): void;
  /** Queue faults for the next requests of a route (by name, e.g. 'vardata', or path, e.g. '/sdk/v2/vardata'). */
  injectFaults(route: string, ...faults: Fault[]): void;
  /** Drop pending faults of one route, or of all. */
  clearFaults(route?: string): void;
  /** Faults still queued for a route. */
  pendingFaults(route: string): number;
  /** Logged requests, optionally only one route's (name or path). */
  requests(route?: string): RequestLogEntry[];
  clearRequests(): void;
  /** Resolve once `count` requests of `route` have been logged; reject after timeoutMillis. */
  waitForRequests(route: string, count: number, timeoutMillis?: number): Promise<RequestLogEntry[]>;
  /** Every analytics event received, in order. */
  events(): Record<string, unknown>[];
  /** Analytics batches as received (api key, events, options). */
  eventBatches(): CapturedBatch[];
  clearEvents(): void;
  /** Add or replace a cohort served by /sdk/v1/cohort/:id. */
  setCohort(cohort: ServedCohort): void;
  deleteCohort(cohortId: string): boolean;
  /** Change the SSE stream's behaviour (applies to open connections too). */
  setStreamOptions(options: Partial<StreamHubOptions>): void;
  /** Write raw SSE text (or garbage) to every open stream connection. */
  pushStream(raw: string): void;
  /** End every open stream connection ('end': cleanly; 'destroy': reset the sockets). */
  closeStreams(mode?: 'end' | 'destroy'): void;
  /** Stream connections open now. */
  readonly openStreams: number;
  /** Add or replace a route at run time. */
  addRoute(route: Route): void;
  /** Stop accepting requests, end open ones (including hanging and streaming ones) and free the port. */
  close(): Promise<void>;
}

class LocalServerImpl implements LocalServer {
  readonly state: ServerState;
  private readonly router: Router;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private closingResolve!: () => void;
  private readonly closing: Promise<void>;
  private closed = false;
  url = '';
  port = 0;
  host: string;

  constructor(options: LocalServerOptions) {
    const injected = options.engine;
    this.state = new ServerState(
      () => injected ?? loadEngine(),
      options.logRequests ?? true,
      options.maxLoggedRequests ?? 10000,
      options.maxCapturedBatches ?? 10000,
    );
    for (const key of options.apiKeys ?? []) this.state.apiKeys.add(key);
    if (options.flags !== undefined) this.state.setFlags(options.flags);
    for (const c of options.cohorts ?? []) this.state.setCohort(c);
    for (const k of options.cohortKeys ?? []) {
      this.state.cohortKeys.add(Buffer.from(`${k.apiKey}:${k.secretKey}`).toString('base64'));
    }
    this.state.evaluationProxy = options.evaluationProxy === true;
    if (options.stream) Object.assign(this.state.streams.options, options.stream);
    this.router = new Router([...DEFAULT_ROUTES, ...(options.routes ?? [])]);
    this.host = options.host ?? '127.0.0.1';
    this.closing = new Promise((resolve) => (this.closingResolve = resolve));
    // Big users (> 8 KB of base64) must still fit in a header.
    this.server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'internal error: ' + errorMessage(e) }));
        } else {
          res.destroy();
        }
      });
    });
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('local server: no TCP address');
    this.port = address.port;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${hostPart}:${this.port}`;
  }

  setFlags(flags: FlagsInput): void {
    this.state.setFlags(flags);
  }

  private routeName(route: string): string {
    if (!route.startsWith('/')) return route;
    const found = this.router.routes().find((r) => r.path === route);
    return found ? found.name : route;
  }

  injectFaults(route: string, ...faults: Fault[]): void {
    this.state.addFaults(this.routeName(route), faults);
  }

  clearFaults(route?: string): void {
    this.state.clearFaults(route === undefined ? undefined : this.routeName(route));
  }

  pendingFaults(route: string): number {
    return this.state.pendingFaults(this.routeName(route));
  }

  requests(route?: string): RequestLogEntry[] {
    if (route === undefined) return this.state.requests.slice();
    const name = this.routeName(route);
    return this.state.requests.filter((r) => r.route === name);
  }

  clearRequests(): void {
    this.state.requests.length = 0;
  }

  waitForRequests(route: string, count: number, timeoutMillis = 10000): Promise<RequestLogEntry[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const list = this.requests(route);
        if (list.length >= count) {
          finish();
          resolve(list);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`waitForRequests: ${this.requests(route).length} of ${count} '${route}' requests after ${timeoutMillis} ms`),
        );
      }, timeoutMillis);
      timer.unref();
      const waiter = (): void => void check();
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  events(): Record<string, unknown>[] {
    return this.state.batches.flatMap((b) => b.events);
  }

  eventBatches(): CapturedBatch[] {
    return this.state.batches.slice();
  }

  clearEvents(): void {
    this.state.batches.length = 0;
  }

  addRoute(route: Route): void {
    this.router.add(route);
  }

  setCohort(cohort: ServedCohort): void {
    this.state.setCohort(cohort);
  }

  deleteCohort(cohortId: string): boolean {
    return this.state.deleteCohort(cohortId);
  }

  setStreamOptions(options: Partial<StreamHubOptions>): void {
    Object.assign(this.state.streams.options, options);
    this.state.streams.refreshKeepAlives();
  }

  pushStream(raw: string): void {
    this.state.streams.pushRaw(raw);
  }

  closeStreams(mode: 'end' | 'destroy' = 'end'): void {
    this.state.streams.closeAll(mode);
  }

  get openStreams(): number {
    return this.state.streams.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closingResolve();
    this.state.streams.closeAll('destroy');
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await done;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private notify(): void {
    for (const w of Array.from(this.waiters)) w();
  }

  private async readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      return Buffer.alloc(0);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(b);
    }
    return Buffer.concat(chunks);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://local');
    const method = req.method ?? 'GET';
    const match = this.router.match(method, url.pathname);
    const route = typeof match === 'object' ? match.route : undefined;
    const log: RequestLogEntry = {
      route: route ? route.name : null,
      method,
      path: url.pathname,
      url: rawUrl,
      headers: req.headers,
      timestamp: Date.now(),
      time: performance.now(),
      remotePort: req.socket.remotePort,
    };
    const body = await this.readBody(req);
    if (body !== undefined && body.length > 0) log.body = body.toString('utf8');
    this.state.record(log);
    this.notify();

    if (body === undefined) return this.send(res, log, jsonError(413, 'request body too large'));
    if (match === undefined) return this.send(res, log, jsonError(404, 'not found'));
    if (match === 'methodNotAllowed') return this.send(res, log, jsonError(405, 'method not allowed'));

    const fault = this.state.takeFault(match.route.name);
    if (fault) log.fault = fault;
    if (fault?.delayMs !== undefined && fault.delayMs > 0) {
      await this.delay(fault.delayMs);
      if (this.closed) return;
    }
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.hang) return; // ended by the client, or by close()

    let response: RouteResponse | undefined;
    if (fault && !fault.truncate && (fault.status !== undefined || fault.body !== undefined)) {
      const status = fault.status ?? 200;
      response = {
        status,
        headers: { 'content-type': 'application/json' },
        body: fault.body ?? JSON.stringify({ error: `injected fault: status ${status}` }),
      };
    } else {
      const ctx: RouteContext = {
        req,
        res,
        url,
        params: match.params,
        body,
        state: this.state,
        log,
        closing: this.closing,
      };
      response = await match.route.handler(ctx);
      if (response === undefined) return; // the route streams its own response
      if (fault?.status !== undefined) response = { ...response, status: fault.status };
      if (fault?.body !== undefined) response = { ...response, body: fault.body };
    }
    if (fault?.headers) response = { ...response, headers: { ...response.headers, ...fault.headers } };
    await this.send(res, log, response, fault);
  }

  private async send(res: ServerResponse, log: RequestLogEntry, response: RouteResponse, fault?: Fault): Promise<void> {
    if (res.destroyed) return;
    const raw = response.body;
    const body = raw === undefined ? Buffer.alloc(0) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    const headers: Record<string, string | number> = { ...response.headers, 'content-length': body.length };
    log.status = response.status;
    if (fault?.truncate) {
      res.writeHead(response.status, headers);
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      // Let the half reach the client before the connection drops.
      await this.delay(10);
      res.destroy();
      return;
    }
    if (fault?.slowBodyMs !== undefined && fault.slowBodyMs > 0 && body.length > 0) {
      res.writeHead(response.status, headers);
      const pieces = Math.min(10, body.length);
      const size = Math.ceil(body.length / pieces);
      const pause = fault.slowBodyMs / pieces;
      for (let off = 0; off < body.length; off += size) {
        if (res.destroyed || this.closed) return;
        res.write(body.subarray(off, off + size));
        await this.delay(pause);
      }
      if (!res.destroyed) res.end();
      return;
    }
    res.writeHead(response.status, headers);
    res.end(body);
  }
}

/** Start a local Amplitude-compatible server; resolves once it is listening. */
export async function createLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const server = new LocalServerImpl(options);
  await server.listen(options.port ?? 0);
  return server;
}
