/**
 * SSE flag streaming (`GET {streamServerUrl}/sdk/stream/v1/flags`), with the
 * official SDK's protocol: headers `Authorization: Api-Key <key>` and
 * `X-Amp-Exp-Library`; every `data` message is a full JSON array of flags;
 * a data value of a single space is a keep-alive.
 *
 * FlagStream is one connection at a time: connect() resolves once the
 * first flag payload was applied (within streamFlagConnTimeoutMillis), then
 * the connection is watched: silence for longer than the keep-alive
 * timeout, a closed response, or a payload that cannot be applied is an
 * error (onError). Every 12-18 minutes the connection is replaced by a
 * fresh one.
 *
 * StreamingUpdater puts the stream in front of the poller: when the stream
 * cannot connect or fails, polling takes over and the stream is retried
 * through the backoff helper; once it connects again, polling pauses.
 */
import { StringDecoder } from 'node:string_decoder';
import { Backoff, type BackoffOptions } from '../util/backoff';
import { FetchError, type HttpClient, type HttpStream, splitUrl } from '../util/http';
import { type MetricsSink, NO_METRICS } from '../metrics';
import type { Logger } from '../util/logger';
import type { FlagPoller } from './flag-poller';
import { isPermanentFailure } from '../util/retry';
import { apiKeyAuthorization, sdkHeaders } from '../util/auth';
import { errorMessage } from '../util/error-message';

/** 15 s server keep-alive + 2 s grace, as the official SDK. */
export const STREAM_KEEP_ALIVE_TIMEOUT_MILLIS = 17_000;
/** A connection is replaced after a random time in [min, max). */
export const STREAM_MAX_CONNECTION_MIN_MILLIS = 12 * 60_000;
export const STREAM_MAX_CONNECTION_MAX_MILLIS = 18 * 60_000;
/** Reconnect schedule after a stream failure (the official SDK retries every 15-17 s). */
export const STREAM_RETRY_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  minMillis: 1_000,
  maxMillis: 17_000,
  scalar: 2,
  jitter: 0.2,
});
/** A connection that lived this long resets the reconnect schedule when it fails. */
export const STREAM_STABLE_MILLIS = 60_000;

const KEEP_ALIVE_DATA = ' ';

/** Timing and size overrides (tests). */
export interface StreamTimings extends SseLimits {
  keepAliveTimeoutMillis?: number;
  maxConnectionMinMillis?: number;
  maxConnectionMaxMillis?: number;
  retryBackoff?: BackoffOptions;
  stableMillis?: number;
}

export interface FlagStreamOptions {
  apiKey: string;
  streamServerUrl: string;
  /** Deadline for the response and the first flag payload. */
  connTimeoutMillis: number;
  http: Pick<HttpClient, 'stream'>;
  logger: Logger;
  /** Apply a full flag payload; false (or a rejection) when it could not be used. */
  onPayload: (payload: string) => boolean | Promise<boolean>;
  /** A keep-alive arrived on an established connection: the flags in force are current. */
  onKeepAlive?: () => void;
  timings?: StreamTimings;
}

/** Why a stream attempt or connection failed. */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(
    message: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Largest line and event the parser holds, in characters: far above real flag payloads (a few MB), but a bound, so a
 * line or an event that never ends cannot grow memory without limit while each chunk keeps the connection alive.
 */
export const SSE_MAX_LINE_CHARS = 64 * 1024 * 1024;
export const SSE_MAX_EVENT_CHARS = 64 * 1024 * 1024;

export interface SseLimits {
  /** Longest line, its end not counted. Default SSE_MAX_LINE_CHARS. */
  maxLineChars?: number;
  /** Largest event: the data of its lines, joined. Default SSE_MAX_EVENT_CHARS. */
  maxEventChars?: number;
}

/** A line or an event went past the parser's limit; the stream cannot be parsed further. */
export class SseLimitError extends Error {
  override readonly name = 'SseLimitError';
}

/**
 * Incremental text/event-stream parser (WHATWG rules for data/event fields and line endings). Each chunk is scanned
 * once: the unfinished line's pieces are kept as they came and joined only when the line ends.
 */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxLineChars: number;
  private readonly maxEventChars: number;
  private partial: string[] = [];
  private partialChars = 0;
  private data: string[] = [];
  private dataChars = 0;
  private eventType = '';
  /** The last chunk ended with CR: an LF first in the next non-empty chunk belongs to that line end. */
  private sawCr = false;

  constructor(
    private readonly onMessage: (data: string, eventType: string) => void,
    limits: SseLimits = {},
  ) {
    this.maxLineChars = limits.maxLineChars ?? SSE_MAX_LINE_CHARS;
    this.maxEventChars = limits.maxEventChars ?? SSE_MAX_EVENT_CHARS;
  }

  /** Throws SseLimitError when a line or an event gets too large (the parser is then empty and should be dropped). */
  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    // Nothing to scan (an empty chunk, or part of a UTF-8 character): a pending CR keeps waiting for its LF.
    if (text.length === 0) return;
    const len = text.length;
    let i = 0;
    if (this.sawCr) {
      this.sawCr = false;
      if (text.charCodeAt(0) === 10) i = 1;
    }
    // Next LF and CR at or after i (-1: none left); each is searched again only once passed.
    let lf = -2;
    let cr = -2;
    while (i < len) {
      if (lf !== -1 && lf < i) lf = text.indexOf('\n', i);
      if (cr !== -1 && cr < i) cr = text.indexOf('\r', i);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (end < 0) {
        this.keepPartial(text.slice(i));
        return;
      }
      let line = text.slice(i, end);
      if (this.partialChars + line.length > this.maxLineChars) this.overLimit('line', this.maxLineChars);
      if (this.partial.length > 0) {
        this.partial.push(line);
        line = this.partial.join('');
        this.partial = [];
        this.partialChars = 0;
      }
      i = end + 1;
      if (end === cr) {
        if (i === len) this.sawCr = true;
        else if (text.charCodeAt(i) === 10) i++;
      }
      this.line(line);
    }
  }

  private keepPartial(piece: string): void {
    this.partialChars += piece.length;
    if (this.partialChars > this.maxLineChars) this.overLimit('line', this.maxLineChars);
    this.partial.push(piece);
  }

  private overLimit(what: 'line' | 'event', limit: number): never {
    this.partial = [];
    this.partialChars = 0;
    this.data = [];
    this.dataChars = 0;
    throw new SseLimitError(
      what === 'line'
        ? `an SSE line is longer than ${limit} characters`
        : `an SSE event is larger than ${limit} characters without the blank line that ends it`,
    );
  }

  private line(line: string): void {
    if (line.length === 0) {
      if (this.data.length > 0) {
        const data = this.data.join('\n');
        const type = this.eventType;
        this.data = [];
        this.dataChars = 0;
        this.eventType = '';
        this.onMessage(data, type);
      } else {
        this.eventType = '';
      }
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return; // comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      // Joined with a newline between lines.
      this.dataChars += value.length + (this.data.length > 0 ? 1 : 0);
      if (this.dataChars > this.maxEventChars) this.overLimit('event', this.maxEventChars);
      this.data.push(value);
    } else if (field === 'event') this.eventType = value;
    // id and retry are not used by this protocol
  }
}

/** One SSE connection at a time; see the module comment. */
export class FlagStream {
  /**
   * Called once per established connection that fails (not for a connect() that rejects), with when that
   * connection was established (Date.now()): connectedSince is already 0 by then.
   */
  onError: (error: StreamError, connectedSince: number) => void = () => undefined;
  private readonly origin: string;
  private readonly path: string;
  private current: HttpStream | undefined;
  private generation = 0;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectedAt = 0;
  /** Rejects the connect() still waiting for its first payload, if any. */
  private pendingConnect: ((error: StreamError) => void) | undefined;
  private closed = false;
  /** An oversized line or event was logged as an error (once; later ones are stream failures like any other). */
  private reportedLimit = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: FlagStreamOptions) {
    const { origin, path } = splitUrl(options.streamServerUrl + '/sdk/stream/v1/flags');
    this.origin = origin;
    this.path = path;
  }

  /** performance-independent: when the current connection was established (Date.now()), 0 if none. */
  get connectedSince(): number {
    return this.connectedAt;
  }

  get isConnected(): boolean {
    return this.current !== undefined && this.connectedAt > 0;
  }

  /**
   * Open a connection and wait for the first flag payload to be applied.
   * Rejects with StreamError (statusCode set for an HTTP status) on failure.
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new StreamError('stream closed'));
    this.disconnect();
    const generation = ++this.generation;
    const timings = this.options.timings ?? {};
    const keepAliveMillis = timings.keepAliveTimeoutMillis ?? STREAM_KEEP_ALIVE_TIMEOUT_MILLIS;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settleWith = (error: StreamError | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connTimer);
        if (this.pendingConnect === settleWith) this.pendingConnect = undefined;
        if (error) reject(error);
        else resolve();
      };
      // Dropped before its first payload (close(), disconnect(), a newer connect()), this attempt's own failures are
      // ignored from then on: the drop settles it, instead of it waiting for nothing until its caller's deadline.
      this.pendingConnect = settleWith;
      const fail = (error: StreamError): void => {
        if (generation !== this.generation) return;
        if (!settled) {
          settleWith(error);
          this.disconnect();
          return;
        }
        // An established connection failed.
        const since = this.connectedAt;
        this.disconnect();
        this.onError(error, since);
      };
      const connTimer = setTimeout(
        () => fail(new StreamError(`stream timed out after ${this.options.connTimeoutMillis} ms waiting for flags`)),
        this.options.connTimeoutMillis,
      );
      connTimer.unref();

      const armKeepAlive = (): void => {
        if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
        this.keepAliveTimer = setTimeout(
          () => fail(new StreamError(`keep alive fail: no data for ${keepAliveMillis} ms`)),
          keepAliveMillis,
        );
        this.keepAliveTimer.unref();
      };

      // Payloads are applied one at a time, in order.
      let applying: Promise<void> = Promise.resolve();
      const onMessage = (data: string, eventType: string): void => {
        if (eventType !== '' && eventType !== 'message') return;
        if (data === KEEP_ALIVE_DATA || data.length === 0) {
          if (settled && generation === this.generation) this.options.onKeepAlive?.();
          return;
        }
        applying = applying.then(async () => {
          if (generation !== this.generation) return;
          let ok: boolean;
          try {
            ok = await this.options.onPayload(data);
          } catch {
            ok = false;
          }
          if (generation !== this.generation) return;
          if (!ok) {
            fail(new StreamError('stream data parse error: the flag payload could not be applied'));
            return;
          }
          if (!settled) {
            this.connectedAt = Date.now();
            this.scheduleReplacement(generation);
            settleWith(undefined);
          }
        });
      };
      const parser = new SseParser(onMessage, timings);

      this.options.http
        .stream({
          origin: this.origin,
          path: this.path,
          method: 'GET',
          headers: {
            ...sdkHeaders(apiKeyAuthorization(this.options.apiKey)),
            Accept: 'text/event-stream',
            'Cache-Control': 'no-cache',
          },
          timeoutMillis: this.options.connTimeoutMillis,
          signal: this.abort.signal,
        })
        .then(
          (s) => {
            if (generation !== this.generation || this.closed) {
              s.abort();
              return;
            }
            if (s.status !== 200) {
              s.abort();
              fail(new StreamError(`stream request failed: status=${s.status}`, s.status));
              return;
            }
            this.current = s;
            armKeepAlive();
            s.body.on('data', (chunk: Buffer) => {
              if (generation !== this.generation) return;
              armKeepAlive();
              try {
                parser.push(chunk);
              } catch (err) {
                if (err instanceof SseLimitError && !this.reportedLimit) {
                  // Stream failures are warnings (hidden at the default level); this one will not go away by itself.
                  this.reportedLimit = true;
                  this.options.logger.error(`flag stream: ${err.message}; dropping the connection, polling meanwhile`);
                }
                fail(new StreamError(`stream data parse error: ${errorMessage(err)}`, undefined, { cause: err }));
              }
            });
            s.body.on('error', (err: Error) => fail(new StreamError(`stream error: ${err.message}`, undefined, { cause: err })));
            s.body.on('end', () => fail(new StreamError('stream closed by the server')));
            s.body.on('close', () => fail(new StreamError('stream connection closed')));
          },
          (err: unknown) => {
            const status = err instanceof FetchError ? err.statusCode : undefined;
            fail(new StreamError(`stream connect failed: ${errorMessage(err)}`, status, { cause: err }));
          },
        );
    });
  }

  /** Replace the connection after 12-18 minutes; a failed replacement is reported through onError. */
  private scheduleReplacement(generation: number): void {
    const t = this.options.timings ?? {};
    const min = t.maxConnectionMinMillis ?? STREAM_MAX_CONNECTION_MIN_MILLIS;
    const max = t.maxConnectionMaxMillis ?? STREAM_MAX_CONNECTION_MAX_MILLIS;
    const after = Math.floor(min + Math.random() * Math.max(0, max - min));
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (generation !== this.generation || this.closed) return;
      this.options.logger.debug('stream: replacing the connection (periodic reconnect)');
      // A failed replacement reports the connection it replaced, which lived 12-18 minutes.
      const since = this.connectedAt;
      this.connect().catch((err: StreamError) => this.onError(err, since));
    }, after);
    this.reconnectTimer.unref();
  }

  /** Drop the current connection and its timers (a later connect() is allowed); a pending connect() rejects. */
  disconnect(): void {
    this.drop(new StreamError('stream disconnected'));
  }

  private drop(reason: StreamError): void {
    const pending = this.pendingConnect;
    this.pendingConnect = undefined;
    this.generation++;
    this.connectedAt = 0;
    if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.keepAliveTimer = undefined;
    this.reconnectTimer = undefined;
    const s = this.current;
    this.current = undefined;
    if (s) s.abort(reason);
    pending?.(reason);
  }

  /** Close for good: drops the connection and rejects a connect in progress. */
  close(): void {
    this.closed = true;
    this.drop(new StreamError('client stopped'));
    this.abort.abort(new Error('client stopped'));
  }
}

export interface StreamingUpdaterOptions extends FlagStreamOptions {
  poller: Pick<FlagPoller, 'loadInitial' | 'startPolling' | 'pausePolling' | 'pollNow'>;
  metrics?: MetricsSink;
  /** Told when the stream cannot connect or fails (for status and events; logging stays here). */
  onFailure?: (error: StreamError) => void;
}

/**
 * Stream first, polling as the fallback. States: 'streaming' (poller
 * paused) or 'polling' (poller running, stream retried with backoff).
 */
export class StreamingUpdater {
  readonly stream: FlagStream;
  private readonly poller: StreamingUpdaterOptions['poller'];
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly stableMillis: number;
  private readonly metrics: MetricsSink;
  private readonly onFailure: (error: StreamError) => void;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private mode: 'idle' | 'streaming' | 'polling' = 'idle';
  /** Stream connections established (tests and diagnostics). */
  connections = 0;

  constructor(options: StreamingUpdaterOptions) {
    this.stream = new FlagStream(options);
    this.poller = options.poller;
    this.logger = options.logger;
    this.backoff = new Backoff(options.timings?.retryBackoff ?? STREAM_RETRY_BACKOFF);
    this.stableMillis = options.timings?.stableMillis ?? STREAM_STABLE_MILLIS;
    this.metrics = options.metrics ?? NO_METRICS;
    this.onFailure = options.onFailure ?? (() => undefined);
    this.stream.onError = (err, connectedSince) => this.onStreamFailure(err, connectedSince);
  }

  get state(): 'idle' | 'streaming' | 'polling' {
    return this.mode;
  }

  /**
   * Connect the stream; on failure load flags by polling (which rejects on
   * an auth failure or at the deadline) and keep retrying the stream.
   */
  async start(deadline: number): Promise<void> {
    let startError: unknown;
    try {
      await this.stream.connect();
      this.connections++;
      this.mode = 'streaming';
      this.logger.debug('stream: connected');
      return;
    } catch (err) {
      if (this.stopped) throw err;
      this.metrics.onStreamFailure(err);
      this.onFailure(err as StreamError);
      this.logger.warn(`flag stream unavailable (${(err as Error).message}); polling until it is back`);
      startError = err;
    }
    this.mode = 'polling';
    try {
      await this.poller.loadInitial(deadline);
    } finally {
      if (!this.stopped) {
        this.poller.startPolling();
        this.scheduleRetry(startError);
      }
    }
  }

  private onStreamFailure(err: StreamError, connectedSince: number): void {
    if (this.stopped) return;
    if (connectedSince > 0 && Date.now() - connectedSince >= this.stableMillis) this.backoff.reset();
    this.metrics.onStreamFailure(err);
    this.onFailure(err);
    this.logger.warn(`flag stream failed (${err.message}); polling until it reconnects`);
    this.fallBack(err);
  }

  private fallBack(err: unknown): void {
    if (this.mode !== 'polling') {
      this.mode = 'polling';
      this.poller.startPolling();
      this.poller.pollNow();
    }
    this.scheduleRetry(err);
  }

  private scheduleRetry(err?: unknown): void {
    if (this.stopped || this.retryTimer) return;
    if (err !== undefined && isPermanentFailure(err)) {
      // Polling with the same key works, so a refused stream is a stream-side problem (a proxy, a rollout): keep
      // retrying it at the backoff's pace, as the official SDK does, instead of giving it up for the process's life.
      this.logger.debug(`flag stream refused (${(err as Error).message}); retrying it with backoff, polling meanwhile`);
    }
    const wait = this.backoff.next();
    this.logger.debug(`stream: reconnecting in ${wait} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, wait);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.stream.connect();
    } catch (err) {
      if (this.stopped) return;
      this.metrics.onStreamFailure(err);
      this.logger.debug(`stream: reconnect failed (${(err as Error).message})`);
      this.fallBack(err);
      return;
    }
    if (this.stopped) return;
    this.connections++;
    this.mode = 'streaming';
    this.poller.pausePolling();
    this.logger.info('flag stream reconnected; polling paused');
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stream.close();
  }
}
