import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FlagStream,
  type FlagStreamOptions,
  SseLimitError,
  SseParser,
  type SseLimits,
  StreamError,
  StreamingUpdater,
  type StreamTimings,
} from '../../src/local/stream';
import type { HttpRequest, HttpStream } from '../../src/util/http';
import { baseDelay } from '../../src/util/backoff';
import { LIBRARY } from '../../src/version';
import {
  API_KEY,
  capturingLogger,
  eventually,
  FAST_POLLING,
  flag,
  guardUnhandledRejections,
  localClient,
  afterThisTurn,
  silentLogger,
  sleep,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

describe('SseParser', () => {
  function parse(chunks: Array<string | Buffer>, limits?: SseLimits): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const p = new SseParser((data, type) => out.push([data, type]), limits);
    for (const c of chunks) p.push(c);
    return out;
  }

  it('dispatches data on blank lines, joins multi-line data, strips one leading space', () => {
    expect(parse(['data: [1]\n\ndata:a\ndata:  b\n\n'])).toEqual([
      ['[1]', ''],
      ['a\n b', ''],
    ]);
  });

  it('handles CRLF and CR line endings split across chunks, comments and event types', () => {
    expect(parse(['data: x\r', '\n\r\n: comment\r\nevent: other\rdata: y\r\r', 'data: z\n', '\n'])).toEqual([
      ['x', ''],
      ['y', 'other'],
      ['z', ''],
    ]);
  });

  it('an empty chunk between CR and LF keeps them one line end', () => {
    expect(parse(['data: x\r', '', '\ndata: y\n\n'])).toEqual([['x\ny', '']]);
    expect(parse([Buffer.from('data: x\r'), Buffer.alloc(0), Buffer.from('\ndata: y\n\n')])).toEqual([['x\ny', '']]);
    // A chunk holding only the start of a UTF-8 character decodes to nothing, too.
    const e = Buffer.from('é');
    expect(parse([Buffer.from('data: x\r'), e.subarray(0, 1), Buffer.concat([e.subarray(1), Buffer.from('\n\n')])])).toEqual([
      ['x', ''],
    ]);
  });

  it('a 16 MB line split over 64 KB chunks arrives whole', () => {
    // A correctness check of a large event across many chunks. (The parser used to rescan its buffer from the start
    // on every chunk, 11-18 s of CPU for this event; scanned once per chunk it takes milliseconds. No timing is
    // asserted: the machines tests run on are shared.)
    const size = 16 * 1024 * 1024;
    const chunk = 64 * 1024;
    const text = 'data: ' + 'x'.repeat(size) + '\n\n';
    let got = 0;
    const p = new SseParser((data) => (got = data.length));
    for (let at = 0; at < text.length; at += chunk) p.push(text.slice(at, at + chunk));
    expect(got).toBe(size);
  });

  it('splits lines at every kind of end across chunks of any size', () => {
    const text = 'event: a\r\ndata: 1\rdata: 2\n\r\n: c\n\ndata: 3\r\rdata:4\n\n';
    const whole = parse([text]);
    expect(whole).toEqual([
      ['1\n2', 'a'],
      ['3', ''],
      ['4', ''],
    ]);
    for (let size = 1; size <= 4; size++) {
      const chunks: string[] = [];
      for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size), '');
      expect(parse(chunks)).toEqual(whole);
    }
  });

  it('a line or an event past its limit throws SseLimitError; up to the limit it parses', () => {
    const limits = { maxLineChars: 16, maxEventChars: 20 };
    expect(parse(['data: ' + 'x'.repeat(10) + '\n\n'], limits)).toEqual([['x'.repeat(10), '']]);
    // A line that never ends, in one chunk or many.
    expect(() => parse(['data: ' + 'x'.repeat(11)], limits)).toThrow(SseLimitError);
    expect(() => parse(['data: xxxxx', 'xxxxx', 'x'], limits)).toThrow(/SSE line is longer than 16 characters/);
    // An ended line that is too long.
    expect(() => parse([': ' + 'c'.repeat(15) + '\n'], limits)).toThrow(SseLimitError);
    // Data lines never followed by the blank line that ends their event: 10 + 1 + 10 characters.
    expect(parse(['data: ' + 'x'.repeat(9) + '\ndata: ' + 'y'.repeat(10) + '\n\n'], limits)).toEqual([
      ['x'.repeat(9) + '\n' + 'y'.repeat(10), ''],
    ]);
    expect(() => parse(['data: ' + 'x'.repeat(10) + '\n', 'data: ' + 'y'.repeat(10) + '\n'], limits)).toThrow(
      /SSE event is larger than 20 characters/,
    );
  });

  it('decodes UTF-8 split inside a character and keeps the keep-alive space', () => {
    const bytes = Buffer.from('data: é\n\ndata:  \n\n');
    expect(parse([bytes.subarray(0, 7), bytes.subarray(7)])).toEqual([
      ['é', ''],
      [' ', ''],
    ]);
  });
});

describe('FlagStream', () => {
  /** Requests that are never answered (whatever their abort signal says) unless the test does it. */
  function hangingHttp(): FlagStreamOptions['http'] & { requests: HttpRequest[] } {
    const requests: HttpRequest[] = [];
    return {
      requests,
      stream: (req: HttpRequest) => {
        requests.push(req);
        return new Promise<HttpStream>(() => undefined);
      },
    };
  }

  function flagStream(http = hangingHttp()): FlagStream {
    return new FlagStream({
      apiKey: API_KEY,
      streamServerUrl: 'http://127.0.0.1:9',
      connTimeoutMillis: 8000,
      http,
      logger: silentLogger,
      onPayload: () => true,
    });
  }

  /** The promise's outcome so far: 'pending', 'resolved' or the rejection. */
  function track(p: Promise<void>): () => unknown {
    let outcome: unknown = 'pending';
    p.then(
      () => (outcome = 'resolved'),
      (err: unknown) => (outcome = err),
    );
    return () => outcome;
  }

  // Only the timers: setImmediate (afterThisTurn) stays real.
  const fakeTimers = (): void => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  afterEach(() => void vi.useRealTimers());

  it('close() while connecting rejects the connect() at once and leaves no timer', async () => {
    fakeTimers();
    const stream = flagStream();
    const outcome = track(stream.connect());
    expect(vi.getTimerCount()).toBe(1); // the connect timeout
    stream.close();
    await afterThisTurn();
    expect(outcome()).toBeInstanceOf(StreamError);
    expect((outcome() as Error).message).toBe('client stopped');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('disconnect() while connecting rejects the connect()', async () => {
    fakeTimers();
    const stream = flagStream();
    const outcome = track(stream.connect());
    stream.disconnect();
    await afterThisTurn();
    expect((outcome() as Error).message).toBe('stream disconnected');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a newer connect() rejects the one it replaces and clears its connect timer', async () => {
    fakeTimers();
    const http = hangingHttp();
    const stream = flagStream(http);
    const first = track(stream.connect());
    const second = track(stream.connect());
    await afterThisTurn();
    expect(http.requests).toHaveLength(2);
    expect(first()).toBeInstanceOf(StreamError);
    expect(second()).toBe('pending');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(8000);
    await afterThisTurn();
    expect((second() as Error).message).toMatch(/timed out after 8000 ms/);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('StreamingUpdater', () => {
  afterEach(() => void vi.useRealTimers());

  /** Connections refused `refusals` times, then accepted with a flag payload; each attempt's time is recorded. */
  function setup(refusals: number, timings: StreamTimings = {}) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const attempts: number[] = [];
    const bodies: PassThrough[] = [];
    let left = refusals;
    const updater = new StreamingUpdater({
      apiKey: API_KEY,
      streamServerUrl: 'http://127.0.0.1:9',
      connTimeoutMillis: 1000,
      http: {
        stream: (): Promise<HttpStream> => {
          attempts.push(Date.now());
          if (left-- > 0) return Promise.reject(new StreamError('refused', 503));
          const body = new PassThrough();
          bodies.push(body);
          body.write('data: []\n\n');
          return Promise.resolve({ status: 200, headers: {}, body, abort: () => void body.destroy() });
        },
      },
      logger: silentLogger,
      onPayload: () => true,
      poller: {
        loadInitial: () => Promise.resolve(),
        startPolling: () => undefined,
        pausePolling: () => undefined,
        pollNow: () => undefined,
      },
      timings: {
        // Nothing but the test ends a connection.
        keepAliveTimeoutMillis: 3_600_000,
        maxConnectionMinMillis: 3_600_000,
        maxConnectionMaxMillis: 3_600_000,
        retryBackoff: { minMillis: 20, maxMillis: 1000, scalar: 2, jitter: 0 },
        stableMillis: 60_000,
        ...timings,
      },
    });
    return { updater, attempts, bodies, refuse: (n: number) => void (left = n) };
  }

  /** Refused three times (retries after 20, 40 and 80 ms), then connected: the next delay would be 160 ms. */
  async function connectAfterThreeRefusals(timings?: StreamTimings) {
    const t = setup(3, timings);
    await t.updater.start(Date.now() + 10_000);
    await vi.advanceTimersByTimeAsync(20 + 40 + 80);
    await afterThisTurn();
    expect(t.attempts).toHaveLength(4);
    expect(t.updater.state).toBe('streaming');
    return t;
  }

  it('a connection that was up for stableMillis resets the retry schedule when it fails', async () => {
    const { updater, attempts, bodies } = await connectAfterThreeRefusals();
    await vi.advanceTimersByTimeAsync(60_000);
    bodies[0].end();
    await afterThisTurn();
    expect(updater.state).toBe('polling');
    await vi.advanceTimersByTimeAsync(20);
    await afterThisTurn();
    expect(attempts).toHaveLength(5);
    updater.stop();
  });

  it('a periodic replacement that fails resets the schedule: the connection it replaced was stable', async () => {
    const { updater, attempts, refuse } = await connectAfterThreeRefusals({
      maxConnectionMinMillis: 60_000,
      maxConnectionMaxMillis: 60_000,
    });
    refuse(1);
    await vi.advanceTimersByTimeAsync(60_000);
    await afterThisTurn();
    expect(attempts).toHaveLength(5); // the replacement, refused
    expect(updater.state).toBe('polling');
    await vi.advanceTimersByTimeAsync(20);
    await afterThisTurn();
    expect(attempts).toHaveLength(6);
    updater.stop();
  });

  it('a shorter connection keeps the schedule going', async () => {
    const { updater, attempts, bodies } = await connectAfterThreeRefusals();
    await vi.advanceTimersByTimeAsync(59_999);
    bodies[0].end();
    await afterThisTurn();
    await vi.advanceTimersByTimeAsync(159);
    await afterThisTurn();
    expect(attempts).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    await afterThisTurn();
    expect(attempts).toHaveLength(5);
    updater.stop();
  });
});

describe('flag streaming', () => {
  const server = useLocalServer({ flags: [flag('a')], apiKeys: [API_KEY] });

  // Polling (the fallback) every 20 ms, stream retries from 20 ms: no test waits on production timings.
  function streamingClient(
    timings: Record<string, unknown> = {},
    logger = capturingLogger(),
    config: Record<string, unknown> = {},
  ) {
    return localClient(
      {
        serverUrl: server.url,
        streamUpdates: true,
        streamServerUrl: server.url,
        streamFlagConnTimeoutMillis: 1000,
        logger,
        ...config,
      },
      {
        ...FAST_POLLING,
        stream: {
          keepAliveTimeoutMillis: 2000,
          retryBackoff: { minMillis: 20, maxMillis: 80, scalar: 2, jitter: 0 },
          ...timings,
        },
      },
    );
  }

  it('loads flags from the stream with the official headers and no flag poll', async () => {
    const client = streamingClient();
    await client.start();
    expect(client.flagKeys()).toEqual(['a']);
    const [req] = server.requests('stream');
    expect(req.headers.authorization).toBe(`Api-Key ${API_KEY}`);
    expect(req.headers['x-amp-exp-library']).toBe(LIBRARY);
    expect(server.requests('flags')).toHaveLength(0);
  });

  it('applies every pushed flag set', async () => {
    const client = streamingClient();
    await client.start();
    server.setFlags([flag('a', 'off'), flag('b')]);
    await eventually(() => client.flagKeys().includes('b'), 5000, 'pushed flags');
    expect(client.evaluateV2({ user_id: 'u' }).a.key).toBe('off');
    expect(server.requests('flags')).toHaveLength(0);
  });

  it('stays connected while keep-alives arrive', async () => {
    server.setStreamOptions({ keepAliveMillis: 50 });
    const client = streamingClient({ keepAliveTimeoutMillis: 300 });
    await client.start();
    await sleep(700); // more than two keep-alive timeouts
    expect(server.state.streams.opened).toBe(1);
    expect(server.requests('flags')).toHaveLength(0);
  });

  it('falls back to polling when the stream goes silent, then reconnects', async () => {
    server.setStreamOptions({ keepAliveMillis: 0 });
    const logger = capturingLogger();
    const client = streamingClient({ keepAliveTimeoutMillis: 300 }, logger);
    await client.start();
    // Silence: keep-alive failure, an immediate poll, then stream reconnects (which go silent again).
    await server.waitForRequests('flags', 1, 5000);
    await eventually(() => server.state.streams.opened >= 2, 5000, 'stream reconnect');
    expect(logger.count('warn', 'keep alive fail')).toBeGreaterThan(0);
    // Flags keep being served throughout.
    expect(client.evaluateV2({}).a.key).toBe('on');
  });

  it('replaces the connection periodically without falling back to polling', async () => {
    server.setStreamOptions({ keepAliveMillis: 50 });
    const client = streamingClient({ maxConnectionMinMillis: 200, maxConnectionMaxMillis: 300 });
    await client.start();
    await eventually(() => server.state.streams.opened >= 3, 5000, 'periodic reconnects');
    expect(server.requests('flags')).toHaveLength(0);
    server.setFlags([flag('c')]);
    await eventually(() => client.flagKeys().includes('c'), 5000, 'flags after reconnects');
  });

  it('starts by polling when the stream fails, then switches back to streaming and pauses polling', async () => {
    server.injectFaults('stream', { status: 503, times: 3 });
    const client = streamingClient();
    await client.start();
    expect(server.requests('flags').length).toBeGreaterThanOrEqual(1);
    expect(client.flagKeys()).toEqual(['a']);
    await eventually(() => server.openStreams === 1, 10_000, 'stream back');
    server.setFlags([flag('d')]);
    await eventually(() => client.flagKeys().includes('d') && client.status().source === 'stream', 5000, 'streamed flags');
    await sleep(50); // a poll already in flight when the stream came back may still land
    const pollsWhenStreaming = server.requests('flags').length;
    await sleep(200); // ten polling intervals
    expect(server.requests('flags').length).toBe(pollsWhenStreaming);
  });

  it('a stream refused with a 4xx is retried with backoff, as the official SDK does; polling carries on meanwhile', async () => {
    server.injectFaults('stream', { status: 404, times: Infinity });
    const logger = capturingLogger();
    const client = streamingClient({}, logger);
    await client.start();
    expect(client.flagKeys()).toEqual(['a']);
    await eventually(() => server.requests('stream').length >= 3, 10_000, 'stream retries');
    server.setFlags([flag('e')]);
    await eventually(() => client.flagKeys().includes('e'), 10_000, 'flags by polling while the stream is refused');
  });

  it('rejects start() clearly when the deployment key is refused', async () => {
    server.state.apiKeys.clear();
    server.state.apiKeys.add('another-key');
    const client = streamingClient();
    await expect(client.start()).rejects.toThrow(/status 401.*deployment key/);
  });

  it('treats garbage and invalid payloads as stream errors and keeps the last good flags', async () => {
    const logger = capturingLogger();
    const client = streamingClient({}, logger);
    await client.start();
    server.pushStream('data: {not json\n\n');
    await eventually(() => server.state.streams.opened >= 2, 5000, 'reconnect after garbage');
    expect(client.evaluateV2({}).a.key).toBe('on');
    // A payload that parses but fails validation as a whole (not an array).
    server.pushStream('data: {"flags": true}\n\n');
    await eventually(() => server.state.streams.opened >= 3, 5000, 'reconnect after an invalid payload');
    expect(client.flagKeys()).toEqual(['a']);
    expect(logger.count('error', 'not applied')).toBeGreaterThanOrEqual(2);
  });

  it('a line that never ends fails the stream at its limit, logged as an error, and polling takes over', async () => {
    // No keep-alives (their blank line would end the line), and a keep-alive timeout the test does not reach.
    server.setStreamOptions({ keepAliveMillis: 0 });
    const logger = capturingLogger();
    const client = streamingClient({ maxLineChars: 1000, keepAliveTimeoutMillis: 60_000 }, logger);
    await client.start();
    expect(server.requests('flags')).toHaveLength(0);
    server.pushStream('data: ' + 'x'.repeat(600));
    server.pushStream('x'.repeat(600));
    await server.waitForRequests('flags', 1, 5000);
    expect(logger.count('error', /flag stream: an SSE line is longer than 1000 characters/)).toBe(1);
    expect(logger.count('warn', 'flag stream failed (stream data parse error: an SSE line')).toBe(1);
    expect(client.evaluateV2({}).a.key).toBe('on');
  });

  it('a first payload larger than the event limit: start() loads by polling and says why at the error level', async () => {
    const logger = capturingLogger();
    const client = streamingClient({ maxEventChars: 20 }, logger);
    await client.start();
    expect(client.flagKeys()).toEqual(['a']);
    expect(server.requests('flags').length).toBeGreaterThanOrEqual(1);
    expect(logger.count('error', /flag stream: an SSE event is larger than 20 characters/)).toBe(1);
    expect(logger.count('warn', 'flag stream unavailable (stream data parse error: an SSE event')).toBe(1);
  });

  it('close() while the stream is connecting rejects start() at once, not at startTimeoutMillis', async () => {
    server.injectFaults('stream', { hang: true, times: Infinity });
    const client = streamingClient({}, capturingLogger(), { streamFlagConnTimeoutMillis: 60_000, startTimeoutMillis: 60_000 });
    let outcome: unknown = 'pending';
    client.start().then(
      () => (outcome = 'resolved'),
      (err: unknown) => (outcome = err),
    );
    await server.waitForRequests('stream', 1, 5000);
    await client.close();
    await afterThisTurn();
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/client stopped/);
  });

  it('reconnects after a connection reset', async () => {
    const client = streamingClient();
    await client.start();
    server.closeStreams('destroy');
    await eventually(() => server.openStreams === 1 && server.state.streams.opened === 2, 5000, 'reconnect');
    server.setFlags([flag('e')]);
    await eventually(() => client.flagKeys().includes('e'), 5000, 'flags after reset');
  });

  it('retries a failing stream on the backoff schedule', async () => {
    server.injectFaults('stream', { status: 500, times: Infinity });
    const options = { minMillis: 20, maxMillis: 80, scalar: 2, jitter: 0 };
    const client = streamingClient({ retryBackoff: options });
    await client.start(); // by polling
    await eventually(() => server.requests('stream').length >= 6, 10_000, 'stream retries');
    // Attempts never come faster than the un-jittered schedule: 20, 40, 80, 80 ms apart.
    const times = server.requests('stream').map((r) => r.time);
    for (let n = 0; n + 1 < times.length; n++) {
      expect(times[n + 1] - times[n]).toBeGreaterThanOrEqual(baseDelay(options, n) - 1);
    }
    await client.close();
    const after = server.requests('stream').length;
    await sleep(250); // three maximum delays
    expect(server.requests('stream').length).toBe(after);
  });

  it('connect timeout: a stream that never sends flags falls back to polling', async () => {
    server.setStreamOptions({ sendInitialFlags: false, keepAliveMillis: 50 });
    const client = streamingClient({}, capturingLogger(), { streamFlagConnTimeoutMillis: 300 });
    await client.start();
    expect(server.requests('flags').length).toBeGreaterThanOrEqual(1);
    expect(client.flagKeys()).toEqual(['a']);
  });
});
