/** The one retry policy (src/util/retry.ts), and the flag poller following it (remote fetch and cohorts are tested in their own files). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlagPoller } from '../../src/local/flag-poller';
import { StreamError } from '../../src/local/stream';
import { FetchError, HttpClient } from '../../src/util/http';
import { createLogger, LogLevel } from '../../src/util/logger';
import { isPermanentFailure, isRetryable, isRetryableStatus } from '../../src/util/retry';
import { API_KEY, FLAGS } from '../dev-server/fixtures';
import { useLocalServer } from '../support';

describe('isRetryableStatus', () => {
  it.each([408, 429, 500, 502, 503, 504, 599, 204, 302])('%i: retry', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });
  it.each([400, 401, 403, 404, 405, 409, 413, 422, 451, 499, 501])('%i: permanent', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('isRetryable / isPermanentFailure', () => {
  it('read the status of FetchError and StreamError alike', () => {
    expect(isRetryable(new FetchError(408, 'x'))).toBe(true);
    expect(isPermanentFailure(new FetchError(403, 'x'))).toBe(true);
    expect(isRetryable(new StreamError('x', 503))).toBe(true);
    expect(isPermanentFailure(new StreamError('x', 501))).toBe(true);
  });

  it('transport failures are retried, aborts and closed clients are not', () => {
    expect(isRetryable(new FetchError(undefined, 'x', { code: 'TIMEOUT' }))).toBe(true);
    expect(isRetryable(new FetchError(undefined, 'x', { code: 'NETWORK' }))).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new FetchError(undefined, 'x', { code: 'ABORTED' }))).toBe(false);
    expect(isRetryable(new FetchError(undefined, 'x', { code: 'CLOSED' }))).toBe(false);
    expect(isPermanentFailure(new Error('socket hang up'))).toBe(false);
  });
});

describe('the flag poller follows the policy', () => {
  const server = useLocalServer({ flags: FLAGS, apiKeys: [API_KEY] });
  let http: HttpClient;
  beforeEach(() => {
    http = new HttpClient();
  });
  afterEach(async () => {
    await http.close();
  });

  function poller(payloads: Buffer[]): FlagPoller {
    return new FlagPoller({
      apiKey: API_KEY,
      serverUrl: server.url,
      pollingIntervalMillis: 30_000,
      requestTimeoutMillis: 5_000,
      http,
      logger: createLogger({ logLevel: LogLevel.Disable }),
      onPayload: (body) => {
        payloads.push(body);
        return true;
      },
    });
  }

  it('408 is retried until the flags load', async () => {
    server.injectFaults('flags', { status: 408, times: 1 });
    const payloads: Buffer[] = [];
    const p = poller(payloads);
    await p.loadInitial(Date.now() + 10_000);
    p.stop();
    expect(server.requests('flags')).toHaveLength(2);
    expect(payloads).toHaveLength(1);
  });

  it('501 rejects at once, like a 4xx', async () => {
    server.injectFaults('flags', { status: 501, times: Infinity });
    const p = poller([]);
    await expect(p.loadInitial(Date.now() + 10_000)).rejects.toMatchObject({ statusCode: 501 });
    p.stop();
    expect(server.requests('flags')).toHaveLength(1);
  });
});
