/** The `metrics` option: each callback fires where the counted thing happens (against the local dev server). */
import { describe, expect, it } from 'vitest';
import type { LocalEvaluationMetrics } from '../../src/metrics';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  flag,
  guardUnhandledRejections,
  localClient,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

type Call = [name: string, ...args: unknown[]];

/** A metrics object that records every call. */
function recorder(): { metrics: Required<LocalEvaluationMetrics>; calls: Call[]; named(name: string): unknown[][] } {
  const calls: Call[] = [];
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      void calls.push([name, ...args]);
  const metrics = {
    onEvaluation: record('onEvaluation'),
    onFlagConfigFetch: record('onFlagConfigFetch'),
    onFlagConfigFetchFailure: record('onFlagConfigFetchFailure'),
    onStreamFailure: record('onStreamFailure'),
    onCohortDownload: record('onCohortDownload'),
    onCohortDownloadFailure: record('onCohortDownloadFailure'),
    onTrackedEventsSent: record('onTrackedEventsSent'),
    onTrackedEventsDropped: record('onTrackedEventsDropped'),
    onTrackedEventsDeduplicated: record('onTrackedEventsDeduplicated'),
    onSnapshotInstall: record('onSnapshotInstall'),
  };
  return { metrics, calls, named: (name) => calls.filter((c) => c[0] === name).map((c) => c.slice(1)) };
}

const cohortKeys = { apiKey: 'ck', secretKey: 'cs' };
const server = useLocalServer({
  flags: [flag('a'), flag('b', 'off')],
  apiKeys: [API_KEY],
  cohorts: [{ cohortId: 'c1', memberIds: ['u1', 'u2', 'u3'], lastModified: 100 }],
});

describe('metrics', () => {
  it('counts flag fetches (and a failed one), the install, and evaluations with their flag counts', async () => {
    const r = recorder();
    server.injectFaults('flags', { status: 503, times: 1 });
    const c = localClient({ serverUrl: server.url, metrics: r.metrics, logger: capturingLogger() });
    await c.start();
    expect(r.named('onFlagConfigFetchFailure')).toHaveLength(1);
    expect((r.named('onFlagConfigFetchFailure')[0][0] as { statusCode: number }).statusCode).toBe(503);
    expect(r.named('onFlagConfigFetch')).toHaveLength(1);
    const [install] = r.named('onSnapshotInstall');
    expect(install[0]).toBeGreaterThanOrEqual(0);
    expect(install.slice(1)).toEqual([2, 'poll']);
    c.evaluateV2({ user_id: 'u' });
    c.evaluateV2({ user_id: 'u' }, ['a']);
    c.evaluateV2Details({ user_id: 'u' }, ['b']);
    expect(r.named('onEvaluation')).toEqual([[2], [1], [1]]);
  });

  it('counts bootstrap installs; a client without onEvaluation is not charged for it', () => {
    const r = recorder();
    const { onEvaluation: _unused, ...rest } = r.metrics;
    const c = localClient({ bootstrap: [flag('x')], metrics: rest });
    c.evaluateV2({ user_id: 'u' });
    expect(r.named('onSnapshotInstall').map((i) => i.slice(1))).toEqual([[1, 'bootstrap']]);
    expect(r.named('onEvaluation')).toEqual([]);
  });

  it('counts cohort downloads with member count and size, and failed downloads', async () => {
    const r = recorder();
    server.setFlags([cohortFlag('f1', 'c1'), cohortFlag('f2', 'c404')]);
    const c = localClient(
      {
        serverUrl: server.url,
        metrics: r.metrics,
        logger: capturingLogger(),
        cohortSyncConfig: { ...cohortKeys, cohortServerUrl: server.url },
      },
      { cohortRetryBackoff: { minMillis: 5, maxMillis: 10, scalar: 2 } },
    );
    await c.start();
    const downloads = r.named('onCohortDownload');
    expect(downloads).toHaveLength(1);
    expect(downloads[0].slice(0, 2)).toEqual(['c1', 3]);
    expect(downloads[0][2]).toBeGreaterThan(0);
    const failures = r.named('onCohortDownloadFailure');
    expect(failures.map((f) => f[0])).toEqual(['c404']);
    expect((failures[0][1] as { statusCode: number }).statusCode).toBe(404);
  });

  it('counts stream failures', async () => {
    const r = recorder();
    server.injectFaults('stream', { status: 500, times: Infinity });
    const c = localClient({
      serverUrl: server.url,
      streamUpdates: true,
      streamServerUrl: server.url,
      metrics: r.metrics,
      logger: capturingLogger(),
    });
    await c.start();
    expect(r.named('onStreamFailure').length).toBeGreaterThanOrEqual(1);
    expect(r.named('onFlagConfigFetch')).toHaveLength(1); // polling took over
  });

  it('counts tracked events sent, deduplicated and dropped', async () => {
    const r = recorder();
    const tracking = {
      apiKey: 'analytics-key',
      serverUrl: server.url + '/2/httpapi',
      flushIntervalMillis: 60_000,
      flushQueueSize: 1000,
    };
    const c = localClient({ serverUrl: server.url, exposureConfig: tracking, metrics: r.metrics });
    await c.start();
    c.evaluateV2({ user_id: 'u1' }, undefined, { tracksExposure: true });
    c.evaluateV2({ user_id: 'u1' }, undefined, { tracksExposure: true });
    await c.close({ flushTimeoutMillis: 5000 });
    // Flag a is on (one exposure); b's default variant is not tracked.
    expect(r.named('onTrackedEventsSent')).toEqual([['exposure', 1]]);
    expect(r.named('onTrackedEventsDeduplicated')).toEqual([['exposure', 1]]);
    expect(server.events()).toHaveLength(1);

    const dropped = recorder();
    server.injectFaults('httpapi', { status: 400, body: JSON.stringify({ code: 400, error: 'bad' }), times: Infinity });
    const d = localClient({
      serverUrl: server.url,
      exposureConfig: tracking,
      metrics: dropped.metrics,
      logger: capturingLogger(),
    });
    await d.start();
    d.evaluateV2({ user_id: 'u2' }, undefined, { tracksExposure: true });
    await d.close({ flushTimeoutMillis: 5000 });
    await eventually(() => dropped.named('onTrackedEventsDropped').length === 1, 5000, 'dropped event');
    const [kind, count, error] = dropped.named('onTrackedEventsDropped')[0];
    expect([kind, count, (error as { statusCode: number }).statusCode]).toEqual(['exposure', 1, 400]);
    expect(dropped.named('onTrackedEventsSent')).toEqual([]);
  });

  it('a throwing callback is logged once and changes nothing', () => {
    const logger = capturingLogger();
    const c = localClient({
      bootstrap: [flag('a')],
      logger,
      metrics: {
        onEvaluation() {
          throw new Error('exporter down');
        },
      },
    });
    expect(c.evaluateV2({ user_id: 'u' }).a.key).toBe('on');
    expect(c.evaluateV2({ user_id: 'u' }).a.key).toBe('on');
    expect(logger.count('error', 'metrics.onEvaluation threw: exporter down')).toBe(1);
  });

  it('an async callback that rejects is logged once, not left as an unhandled rejection', async () => {
    const logger = capturingLogger();
    const c = localClient({
      bootstrap: [flag('a')],
      logger,
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- what is tested: a user writing an async callback
      metrics: { onEvaluation: async () => Promise.reject(new Error('async exporter down')) },
    });
    c.evaluateV2({ user_id: 'u' });
    c.evaluateV2({ user_id: 'u' });
    await eventually(() => logger.count('error', 'metrics.onEvaluation threw: async exporter down') === 1);
  });

  it('rejects a metrics option that is not an object', () => {
    expect(() => localClient({ metrics: 5 as unknown as LocalEvaluationMetrics })).toThrow(/config.metrics must be an object/);
  });
});
