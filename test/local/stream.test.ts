import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/local/stream';
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
  sleep,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

describe('SseParser', () => {
  function parse(chunks: Array<string | Buffer>): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const p = new SseParser((data, type) => out.push([data, type]));
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

  it('decodes UTF-8 split inside a character and keeps the keep-alive space', () => {
    const bytes = Buffer.from('data: é\n\ndata:  \n\n');
    expect(parse([bytes.subarray(0, 7), bytes.subarray(7)])).toEqual([
      ['é', ''],
      [' ', ''],
    ]);
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
