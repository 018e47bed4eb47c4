/**
 * HTTP for every client in the SDK (remote fetch, flag poller, stream,
 * cohort download): one keep-alive connection pool per HttpClient, a total
 * deadline per request, abort through AbortSignal, and close() that aborts
 * whatever is still in flight. Through undici, except for background
 * clients (nodeHttp: the local client's polling, stream, cohort downloads
 * and proxy lookups) and clients given a caller's httpAgent, which go
 * through Node's http module (node-http.ts: much lighter, less throughput).
 *
 * Non-2xx statuses are returned, not thrown: each caller decides what a
 * status means. Transport failures (timeout, reset, refused, abort, close)
 * reject with FetchError, whose `code` says which.
 */
import type * as Undici from 'undici';
import type { Agent, Dispatcher, Pool } from 'undici';
import type { Agent as HttpAgent } from 'node:http';
import { lazy } from './lazy';
import { FetchError } from './fetch-error';
import type { NodeHttpTransport, NodeStreamResponse } from './node-http';
import type { Readable } from 'node:stream';
import { errorMessage } from './error-message';

// Each transport is loaded when a client first needs it.
/* eslint-disable @typescript-eslint/no-require-imports -- literal requires, loaded lazily, visible to bundlers and file tracers */
const loadNodeHttp = lazy(() => require('./node-http') as typeof import('./node-http'));
const undici = lazy(() => (require('./undici') as typeof import('./undici')).undici());
const loadUnrefConnector = lazy(() => require('./unref-connector') as typeof import('./unref-connector'));
/* eslint-enable @typescript-eslint/no-require-imports */

// In its own module, free of Node built-ins, so the edge entry exports the same class.
export { FetchError, type FetchErrorCode, type FetchErrorOptions } from './fetch-error';

export function isFetchError(e: unknown): e is FetchError {
  return e instanceof FetchError;
}

export interface HttpClientOptions {
  /**
   * A caller-owned undici Dispatcher (Agent, Pool, ProxyAgent, MockAgent...).
   * When given, the client uses it as is and close() does not close it.
   */
  dispatcher?: Dispatcher;
  /** Max connections per origin for the client's own Agent. Default: unlimited. */
  connections?: number;
  /** Idle keep-alive timeout for the client's own Agent, ms. Default 4000 (undici's). */
  keepAliveTimeoutMillis?: number;
  /**
   * A caller-owned Node http(s).Agent (the official SDK's `httpAgent`): requests to https origins go through it,
   * over Node's https, as in the official SDK; close() does not destroy it. Ignored with a dispatcher.
   */
  httpAgent?: HttpAgent;
  /**
   * Sockets of the client's own Agent never keep the process alive: for
   * background clients (polling, streaming, cohorts, event upload).
   */
  unrefSockets?: boolean;
  /**
   * Send requests and streams with Node's http/https instead of undici,
   * unless a dispatcher or proxyFromEnv needs undici: a fraction of undici's
   * memory (its WebAssembly HTTP parser), for clients whose request rate is
   * low (a poll every 30 s, one SSE stream).
   */
  nodeHttp?: boolean;
  /**
   * Route requests through HTTP_PROXY / HTTPS_PROXY (lower-case names win), except for hosts in NO_PROXY
   * (undici's EnvHttpProxyAgent). Only for the client's own Agent.
   */
  proxyFromEnv?: boolean;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'PATCH';

export interface HttpRequest {
  /** Absolute URL, or use origin + path (cheaper: no URL parsing per request). */
  url?: string | URL;
  origin?: string;
  /** Path plus query, starting with '/'. */
  path?: string;
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /**
   * Total deadline for the request: connect, headers and body. 0 fails at
   * once (as the official SDK's timeout 0 does). Undefined: no deadline.
   */
  timeoutMillis?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The whole body. */
  body: Buffer;
}

export interface HttpStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The response body as it arrives. Destroy it (or call abort) when done. */
  body: Readable;
  abort(reason?: unknown): void;
}

/** The head of a streaming response, from either transport (node-http.ts's shape). */
type StreamResponse = NodeStreamResponse;

/** Split an absolute http(s) URL into undici's origin and path (with query). */
export function splitUrl(url: string | URL): { origin: string; path: string } {
  const u = typeof url === 'string' ? new URL(url) : url;
  return { origin: u.origin, path: (u.pathname || '/') + u.search };
}

const CLOSED_MESSAGE = 'HTTP client closed';

function closedError(cause?: unknown): FetchError {
  return new FetchError(undefined, CLOSED_MESSAGE, { code: 'CLOSED', cause });
}

function timeoutError(timeout: number): FetchError {
  return new FetchError(undefined, `Request timed out after ${timeout} ms`, { code: 'TIMEOUT' });
}

function abortedError(signal: AbortSignal): FetchError {
  return new FetchError(undefined, 'Request aborted: ' + errorMessage(signal.reason), {
    code: 'ABORTED',
    cause: signal.reason,
  });
}

/** A transport failure (refused, reset, DNS...) of the request to `target`. */
function networkError(target: string, cause: unknown): FetchError {
  return new FetchError(undefined, `Request failed (${target}): ${errorMessage(cause)}`, { code: 'NETWORK', cause });
}

/**
 * Collects one response. Settles its promise exactly once: on the response's
 * end, on an undici error, or on fail() (timeout, caller abort, close), in
 * which case the request is aborted too.
 */
class BufferingHandler implements Dispatcher.DispatchHandler {
  target = '';
  private abortRequest: ((error: Error) => void) | undefined;
  private pendingAbort: Error | undefined;
  private settled = false;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly resolve: (r: HttpResponse) => void,
    private readonly reject: (e: FetchError) => void,
    private readonly registry: Set<BufferingHandler>,
  ) {}

  startTimer(timeout: number): void {
    this.timer = setTimeout(() => this.fail(timeoutError(timeout)), timeout);
    // The request's socket keeps the process alive while it matters; the timer need not.
    this.timer.unref();
  }

  watch(signal: AbortSignal): void {
    this.signal = signal;
    this.onAbort = () => this.fail(abortedError(signal));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Settle with an error now and abort the request (at once, or as soon as it starts). */
  fail(error: FetchError): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
    if (this.abortRequest) this.abortRequest(error);
    else this.pendingAbort = error;
  }

  /** The request started; `abort` cancels it. */
  started(abort: (error: Error) => void): void {
    this.abortRequest = abort;
    if (this.pendingAbort) abort(this.pendingAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.started((error) => controller.abort(error));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const chunks = this.chunks;
    this.complete({ status: this.status, headers: this.headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
  }

  complete(response: HttpResponse): void {
    if (this.settled) return;
    this.finish();
    this.resolve(response);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return;
    this.finish();
    this.reject(error instanceof FetchError ? error : networkError(this.target, error));
  }

  private finish(): void {
    this.settled = true;
    this.registry.delete(this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
  }
}

/* eslint-disable @typescript-eslint/no-require-imports -- a literal require, loaded only with proxyFromEnv */
const proxyParts = lazy(() => {
  const all = require('undici') as typeof Undici;
  return { EnvHttpProxyAgent: all.EnvHttpProxyAgent, Pool: all.Pool };
});
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * undici's EnvHttpProxyAgent with the same Agent options. A custom connector (the local client's unref'd
 * sockets) also opens the connection to the proxy, which carries the tunnel: undici only passes it to
 * ProxyAgent's clientFactory, an option its EnvHttpProxyAgent types leave out but forward.
 */
function envProxyAgent(agentOptions: Agent.Options): Dispatcher {
  const connect = agentOptions.connect;
  if (typeof connect !== 'function') return new (proxyParts().EnvHttpProxyAgent)(agentOptions);
  const { EnvHttpProxyAgent: EnvAgent, Pool: PoolClass } = proxyParts();
  const clientFactory = (origin: URL, opts: Pool.Options): Dispatcher => new PoolClass(origin, { ...opts, connect });
  return new EnvAgent({ ...agentOptions, clientFactory });
}

/** One keep-alive HTTP client. Create one per SDK client; close() when done. */
export class HttpClient {
  /** The caller's dispatcher, or ours once created. */
  private created: Dispatcher | undefined;
  /** Options of our own undici Agent, created at its first request: undici is not loaded before one. */
  private readonly agentOptions: { options: Agent.Options; proxyFromEnv: boolean; unrefSockets: boolean } | undefined;
  /** With nodeHttp (no dispatcher, no proxy from env) or a caller's httpAgent: requests and streams over Node's http. */
  private readonly node: NodeHttpTransport | undefined;
  private readonly ownsDispatcher: boolean;
  private readonly inFlight = new Set<AbortController>();
  private readonly inFlightHandlers = new Set<BufferingHandler>();
  private closed = false;

  constructor(options: HttpClientOptions = {}) {
    if (options.dispatcher) {
      this.created = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      const agentOptions: Agent.Options = {};
      if (options.connections !== undefined) agentOptions.connections = options.connections;
      if (options.keepAliveTimeoutMillis !== undefined) agentOptions.keepAliveTimeout = options.keepAliveTimeoutMillis;
      const proxyFromEnv = options.proxyFromEnv === true;
      this.agentOptions = { options: agentOptions, proxyFromEnv, unrefSockets: options.unrefSockets === true };
      this.ownsDispatcher = true;
      if (options.httpAgent !== undefined || (options.nodeHttp === true && !proxyFromEnv)) {
        this.node = new (loadNodeHttp().NodeHttpTransport)({
          connections: options.connections,
          keepAliveTimeoutMillis: options.keepAliveTimeoutMillis,
          httpsAgent: options.httpAgent,
          unrefSockets: options.unrefSockets,
        });
      }
    }
  }

  private get dispatcher(): Dispatcher {
    if (this.created === undefined) {
      const { options, proxyFromEnv, unrefSockets } = this.agentOptions!;
      if (unrefSockets) options.connect = loadUnrefConnector().unrefConnector();
      this.created = proxyFromEnv ? envProxyAgent(options) : new (undici().Agent)(options);
    }
    return this.created;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Send a request and read the whole body. Rejects only with FetchError.
   * Uses undici's dispatch() with a buffering handler: no stream per
   * response, no AbortController per request.
   */
  request(req: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const handler = new BufferingHandler(resolve, reject, this.inFlightHandlers);
      if (this.closed) return handler.fail(closedError());
      let origin = req.origin;
      let path = req.path;
      if (req.url !== undefined) {
        try {
          ({ origin, path } = splitUrl(req.url));
        } catch (e) {
          return handler.fail(new FetchError(undefined, `Invalid URL: ${errorMessage(e)}`, { code: 'NETWORK', cause: e }));
        }
      }
      if (!origin || !path) {
        return handler.fail(new FetchError(undefined, 'HttpClient.request needs url, or origin and path', { code: 'NETWORK' }));
      }
      handler.target = path;
      const timeout = req.timeoutMillis;
      if (timeout !== undefined && timeout !== null && Number.isFinite(timeout)) {
        if (timeout <= 0) return handler.fail(timeoutError(timeout));
        handler.startTimer(timeout);
      }
      const signal = req.signal;
      if (signal) {
        if (signal.aborted) return handler.fail(abortedError(signal));
        handler.watch(signal);
      }
      this.inFlightHandlers.add(handler);
      const request = { origin, path, method: req.method ?? 'GET', headers: req.headers, body: req.body ?? null };
      const node = this.node;
      if (node !== undefined) {
        try {
          const abort = node.send(request, (err, response) =>
            err ? handler.onResponseError(undefined, err) : handler.complete(response as HttpResponse),
          );
          handler.started(abort);
        } catch (e) {
          handler.fail(networkError(path, e));
        }
        return;
      }
      try {
        this.dispatcher.dispatch(request, handler);
      } catch (e) {
        handler.fail(this.closed ? closedError(e) : networkError(path, e));
      }
    });
  }

  /**
   * Open a streaming response (SSE, large downloads). The deadline
   * (`timeoutMillis`) covers only the wait for the response headers; after
   * that the stream lives until the caller aborts it, the signal fires or the
   * client closes.
   */
  async stream(req: HttpRequest): Promise<HttpStream> {
    const { controller, cleanup, clearDeadline } = this.begin(req);
    let res: StreamResponse;
    try {
      res = await this.open(req, controller.signal);
    } catch (e) {
      cleanup();
      throw this.translate(e, controller, req);
    }
    clearDeadline();
    const body = res.body;
    body.once('close', cleanup);
    return {
      status: res.status,
      headers: res.headers,
      body,
      abort: (reason?: unknown) => {
        if (!controller.signal.aborted)
          controller.abort(reason ?? new FetchError(undefined, 'stream aborted', { code: 'ABORTED' }));
        body.destroy();
      },
    };
  }

  /** Abort every in-flight request (they reject with code CLOSED) and release the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = closedError();
    for (const c of this.inFlight) c.abort(reason);
    this.inFlight.clear();
    for (const h of Array.from(this.inFlightHandlers)) h.fail(reason);
    this.inFlightHandlers.clear();
    this.node?.close();
    if (this.ownsDispatcher && this.created !== undefined) {
      try {
        await this.created.destroy(reason);
      } catch {
        // already destroyed
      }
    }
  }

  private begin(req: HttpRequest): { controller: AbortController; cleanup: () => void; clearDeadline: () => void } {
    const controller = new AbortController();
    if (this.closed) {
      controller.abort(new FetchError(undefined, CLOSED_MESSAGE, { code: 'CLOSED' }));
      return { controller, cleanup: () => undefined, clearDeadline: () => undefined };
    }
    this.inFlight.add(controller);
    let timer: NodeJS.Timeout | undefined;
    const timeout = req.timeoutMillis;
    if (timeout !== undefined && timeout !== null && Number.isFinite(timeout)) {
      const onTimeout = (): void => {
        controller.abort(new FetchError(undefined, `Request timed out after ${timeout} ms`, { code: 'TIMEOUT' }));
      };
      if (timeout <= 0) onTimeout();
      else {
        timer = setTimeout(onTimeout, timeout);
        // The request's socket keeps the process alive while it matters; the timer need not.
        timer.unref();
      }
    }
    const userSignal = req.signal;
    let onUserAbort: (() => void) | undefined;
    if (userSignal) {
      onUserAbort = () => {
        controller.abort(
          new FetchError(undefined, 'Request aborted: ' + errorMessage(userSignal.reason), {
            code: 'ABORTED',
            cause: userSignal.reason,
          }),
        );
      };
      if (userSignal.aborted) onUserAbort();
      else userSignal.addEventListener('abort', onUserAbort, { once: true });
    }
    const clearDeadline = (): void => {
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    };
    const cleanup = (): void => {
      clearDeadline();
      if (userSignal && onUserAbort) userSignal.removeEventListener('abort', onUserAbort);
      this.inFlight.delete(controller);
    };
    return { controller, cleanup, clearDeadline };
  }

  /** Send a streaming request, through Node's http (nodeHttp) or undici; the signal aborts it. */
  private async open(req: HttpRequest, signal: AbortSignal): Promise<StreamResponse> {
    if (signal.aborted) throw signal.reason;
    let origin = req.origin;
    let path = req.path;
    if (req.url !== undefined) {
      const split = splitUrl(req.url);
      origin = split.origin;
      path = split.path;
    }
    if (!origin || !path) {
      throw new FetchError(undefined, 'HttpClient.request needs url, or origin and path', { code: 'NETWORK' });
    }
    const method = req.method ?? 'GET';
    if (this.node !== undefined) {
      return this.node.stream({ origin, path, method, headers: req.headers, body: req.body ?? null }, signal);
    }
    const res = await undici().request(this.dispatcher, { origin, path, method, headers: req.headers, body: req.body, signal });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  private translate(e: unknown, controller: AbortController, req: HttpRequest): FetchError {
    // An abort (timeout, close, user signal) surfaces as the reason we gave.
    if (controller.signal.aborted && controller.signal.reason instanceof FetchError) return controller.signal.reason;
    if (e instanceof FetchError) return e;
    if (this.closed) return new FetchError(undefined, CLOSED_MESSAGE, { code: 'CLOSED', cause: e });
    return networkError(req.path ?? (req.url !== undefined ? String(req.url) : ''), e);
  }
}
