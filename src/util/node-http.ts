/**
 * Requests over Node's own http/https modules, for HttpClients of background
 * clients (`nodeHttp`: the local client's polling, flag stream, cohort
 * downloads and proxy lookups) with no caller dispatcher and no proxy from
 * the environment, and for any client given a caller's httpAgent. Node's
 * HTTP parser is native; undici's is WebAssembly, and undici plus that
 * module's compilation (tiered up on V8's worker threads after the first
 * responses) grow a process by ~10-20 MB of RSS and ~2 MB of V8 heap, more
 * than a whole polling client otherwise costs. undici stays for throughput
 * (the remote client) and every other configuration (see http.ts).
 *
 * Same contract as undici's path: one keep-alive Agent per protocol per
 * HttpClient, idle sockets closed after keepAliveTimeoutMillis, at most
 * `connections` per origin (for https, the caller's httpAgent instead when
 * one is given), a buffered body or one handed over as it arrives,
 * transport failures as errors HttpClient turns into FetchError;
 * the deadline, caller abort and close() are applied by the caller (the
 * returned `abort`, or the AbortSignal of a stream).
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type { Readable } from 'node:stream';
import { lazy } from './lazy';

/* eslint-disable @typescript-eslint/no-require-imports -- literal requires: node:https only for https origins */
const http = lazy(() => require('node:http') as typeof Http);
const https = lazy(() => require('node:https') as typeof Https);
/* eslint-enable @typescript-eslint/no-require-imports */

const CLOSED_EARLY = 'the connection closed before the response ended';

/** undici's default idle keep-alive timeout, kept for this path. */
const DEFAULT_KEEP_ALIVE_MILLIS = 4_000;

export interface NodeHttpOptions {
  connections?: number;
  keepAliveTimeoutMillis?: number;
  /**
   * The caller's agent for https origins (the official SDK's `httpAgent`: its TLS options, a proxy agent...),
   * used as given: close() leaves it and its sockets alone.
   */
  httpsAgent?: Http.Agent;
  /** Sockets never keep the process alive (background clients). */
  unrefSockets?: boolean;
}

export interface NodeRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string> | undefined;
  body: string | Uint8Array | null;
}

export interface NodeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface NodeStreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

interface Target {
  secure: boolean;
  hostname: string;
  port: string;
}

export class NodeHttpTransport {
  private agents: { http?: Http.Agent; https?: Https.Agent } = {};
  private readonly targets = new Map<string, Target>();

  constructor(private readonly options: NodeHttpOptions) {}

  /**
   * Send one request and buffer its response; `onDone` is called once, with
   * the response or the transport error. Returns `abort(error)`, which
   * destroys the request (onDone is then not called: the caller settled
   * already).
   */
  send(req: NodeRequest, onDone: (err: Error | undefined, res?: NodeResponse) => void): (error: Error) => void {
    let done = false;
    const finish = (err: Error | undefined, res?: NodeResponse): void => {
      if (done) return;
      done = true;
      onDone(err, res);
    };
    const request = this.open(
      req,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (!res.complete) return finish(new Error(CLOSED_EARLY));
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
          });
        });
        res.on('error', (e) => finish(e));
        res.on('aborted', () => finish(new Error(CLOSED_EARLY)));
      },
      (e) => finish(e),
    );
    return (error) => {
      done = true;
      request.destroy(error);
    };
  }

  /**
   * Open a request whose response body is handed over as it arrives (SSE,
   * cohort downloads). Resolves at the response headers; rejects with the
   * transport error before them. When `signal` fires (deadline, caller
   * abort, close), the request and the body are destroyed with its reason:
   * the promise rejects with it, or the body emits it as its error.
   */
  stream(req: NodeRequest, signal: AbortSignal): Promise<NodeStreamResponse> {
    return new Promise<NodeStreamResponse>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      let response: Http.IncomingMessage | undefined;
      const onAbort = (): void => {
        response?.destroy(signal.reason as Error);
        request.destroy(signal.reason as Error);
      };
      const request = this.open(
        req,
        (res) => {
          response = res;
          res.once('close', () => signal.removeEventListener('abort', onAbort));
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
        },
        (e) => {
          // After the headers, the body reports failures (Node destroys it with the socket).
          if (response !== undefined) return;
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Close every socket of this transport's own agents, idle or busy (not a caller's agent). */
  close(): void {
    this.agents.http?.destroy();
    this.agents.https?.destroy();
    this.agents = {};
  }

  /** Start a request on this transport's agents; `onError` gets failures of the request and its socket. */
  private open(
    req: NodeRequest,
    onResponse: (res: Http.IncomingMessage) => void,
    onError: (e: Error) => void,
  ): Http.ClientRequest {
    const target = this.target(req.origin);
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== null && !hasHeader(headers, 'content-length')) headers['content-length'] = Buffer.byteLength(req.body);
    const request = (target.secure ? https() : http()).request(
      {
        protocol: target.secure ? 'https:' : 'http:',
        hostname: target.hostname,
        port: target.port,
        path: req.path,
        method: req.method,
        headers,
        agent: this.agent(target.secure),
      },
      onResponse,
    );
    request.on('error', onError);
    if (this.options.unrefSockets) request.on('socket', (socket) => socket.unref());
    request.end(req.body ?? undefined);
    return request;
  }

  private agent(secure: boolean): Http.Agent {
    if (secure && this.options.httpsAgent !== undefined) return this.options.httpsAgent;
    const existing = secure ? this.agents.https : this.agents.http;
    if (existing !== undefined) return existing;
    const o = this.options;
    const options: Https.AgentOptions = {
      keepAlive: true,
      // Node's Agent closes a keep-alive socket idle for `timeout` (a busy one is left alone).
      timeout: o.keepAliveTimeoutMillis ?? DEFAULT_KEEP_ALIVE_MILLIS,
      scheduling: 'lifo',
    };
    if (o.connections !== undefined) options.maxSockets = o.connections;
    if (secure) return (this.agents.https = new (https().Agent)(options));
    return (this.agents.http = new (http().Agent)(options));
  }

  private target(origin: string): Target {
    let t = this.targets.get(origin);
    if (t === undefined) {
      const u = new URL(origin);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol ${u.protocol}`);
      const secure = u.protocol === 'https:';
      // URL keeps an IPv6 host in brackets; http.request wants it bare.
      t = { secure, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || (secure ? '443' : '80') };
      this.targets.set(origin, t);
    }
    return t;
  }
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return true;
  return false;
}
