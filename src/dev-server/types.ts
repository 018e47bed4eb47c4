/** Types shared by the local server and its routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerState } from './state';

/**
 * A fault to inject into the next request(s) of a route, instead of (or on
 * top of) its normal response. Fields combine: `{ delayMs: 200, status: 503 }`
 * waits, then answers 503.
 */
export interface Fault {
  /** Answer with this status instead of the route's response (default body: a JSON error). */
  status?: number;
  /** Extra response headers (e.g. { 'retry-after': '1' }). */
  headers?: Record<string, string>;
  /** Answer with this body instead of the route's (status defaults to 200). */
  body?: string | Buffer;
  /** Wait this long before answering (or before any other fault effect). */
  delayMs?: number;
  /** Destroy the socket without answering (connection reset). */
  reset?: boolean;
  /** Never answer; the request hangs until the client gives up or the server closes. */
  hang?: boolean;
  /** Send the headers (with the full content-length) and half the body, then destroy the socket. */
  truncate?: boolean;
  /** Send the body in small chunks spread over this many ms. */
  slowBodyMs?: number;
  /** How many requests this fault applies to. Default 1; Infinity keeps it until cleared. */
  times?: number;
}

export interface RequestLogEntry {
  /** Route name ('flags', 'vardata', 'httpapi', ...), or null when no route matched. */
  route: string | null;
  method: string;
  /** Path without the query. */
  path: string;
  /** Path with the query, as received. */
  url: string;
  headers: IncomingMessage['headers'];
  /** Date.now() when the request arrived. */
  timestamp: number;
  /** performance.now() when the request arrived (monotonic; use for spacing). */
  time: number;
  /** Status sent (undefined for a reset, a hang, or a response still streaming). */
  status?: number;
  /** The fault applied, if any. */
  fault?: Fault;
  /** Client's port: requests on one keep-alive connection share it. */
  remotePort?: number;
  /** Request body as text (POST/PUT only). */
  body?: string;
}

/** What a route handler returns: a full response, or undefined if it wrote `ctx.res` itself (streams). */
export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Named path parameters (`/sdk/v1/cohort/:id` gives { id }). */
  params: Record<string, string>;
  /** Request body (empty for GET). */
  body: Buffer;
  state: ServerState;
  log: RequestLogEntry;
  /** Resolves when the server is closing: long-lived handlers (SSE) end their responses then. */
  closing: Promise<void>;
}

export interface Route {
  /** Stable name: fault injection and the request log use it. */
  name: string;
  /** HTTP methods served. */
  methods: readonly string[];
  /** Path pattern; `:name` segments match one path segment each. */
  path: string;
  handler(ctx: RouteContext): RouteResponse | undefined | Promise<RouteResponse | undefined>;
}
