/** createOpenTelemetryMetrics, read back through the OTel SDK's metric reader. */
import { afterAll, describe, expect, it } from 'vitest';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { LocalEvaluationClient } from '../../src/local/client';
import { createOpenTelemetryMetrics, errorType, MetricAttributes as A, MetricNames as N } from '../../src/opentelemetry';
import { FetchError } from '../../src/util/http';
import { flag } from '../support';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
// A long interval: the test exports with forceFlush, never on a timer.
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });
afterAll(() => provider.shutdown());

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

async function collect(): Promise<Map<string, { unit: string; points: Point[] }>> {
  exporter.reset();
  await reader.forceFlush();
  const out = new Map<string, { unit: string; points: Point[] }>();
  for (const rm of exporter.getMetrics()) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        out.set(m.descriptor.name, {
          unit: m.descriptor.unit,
          points: m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })),
        });
      }
    }
  }
  return out;
}

describe('createOpenTelemetryMetrics', () => {
  it('records the client through counters and histograms', async () => {
    const metrics = createOpenTelemetryMetrics({ meterProvider: provider });
    const client = new LocalEvaluationClient('k', { bootstrap: [flag('a'), flag('b')], metrics });
    client.evaluateV2({ user_id: 'u' });
    client.evaluateV2({ user_id: 'u' }, ['a']);
    await client.close();
    // The rest driven directly: each callback's mapping.
    metrics.onFlagConfigFetch();
    metrics.onFlagConfigFetchFailure(new FetchError(503, 'flag request failed: status=503'));
    metrics.onFlagConfigFetchFailure(new FetchError(undefined, 'timed out', { code: 'TIMEOUT' }));
    metrics.onStreamFailure(new Error('closed'));
    metrics.onCohortDownload('c1', 1200, 9000);
    metrics.onCohortDownloadFailure('c2', new FetchError(404, 'not found'));
    metrics.onTrackedEventsSent('exposure', 3);
    metrics.onTrackedEventsDropped('assignment', 2, Object.assign(new Error('rejected'), { statusCode: 400 }));
    metrics.onTrackedEventsDeduplicated('exposure', 1);

    const m = await collect();
    expect(m.get(N.EVALUATIONS)!.points).toEqual([{ attributes: {}, value: 2 }]);
    expect(m.get(N.FLAG_FETCHES)!.points[0].value).toBe(1);
    expect(
      m
        .get(N.FLAG_FETCH_FAILURES)!
        .points.map((p) => [p.attributes[A.ERROR_TYPE], p.value])
        .sort(),
    ).toEqual([
      ['503', 1],
      ['timeout', 1],
    ]);
    expect(m.get(N.STREAM_FAILURES)!.points).toEqual([{ attributes: { [A.ERROR_TYPE]: '_OTHER' }, value: 1 }]);
    expect(m.get(N.COHORT_DOWNLOADS)!.points).toEqual([{ attributes: { [A.COHORT_ID]: 'c1' }, value: 1 }]);
    expect(m.get(N.COHORT_MEMBERS)!.points[0].value).toMatchObject({ count: 1, sum: 1200 });
    expect(m.get(N.COHORT_DOWNLOAD_SIZE)!.unit).toBe('By');
    expect(m.get(N.COHORT_DOWNLOAD_SIZE)!.points[0].value).toMatchObject({ sum: 9000 });
    expect(m.get(N.COHORT_DOWNLOAD_FAILURES)!.points[0].attributes).toEqual({ [A.COHORT_ID]: 'c2', [A.ERROR_TYPE]: '404' });
    expect(m.get(N.EVENTS_SENT)!.points).toEqual([{ attributes: { [A.EVENT_KIND]: 'exposure' }, value: 3 }]);
    expect(m.get(N.EVENTS_DROPPED)!.points).toEqual([
      { attributes: { [A.EVENT_KIND]: 'assignment', [A.ERROR_TYPE]: '400' }, value: 2 },
    ]);
    expect(m.get(N.EVENTS_DEDUPLICATED)!.points[0].value).toBe(1);
    expect(m.get(N.SNAPSHOT_INSTALLS)!.points).toEqual([{ attributes: { [A.SOURCE]: 'bootstrap' }, value: 1 }]);
    const duration = m.get(N.SNAPSHOT_INSTALL_DURATION)!;
    expect(duration.unit).toBe('s');
    expect(duration.points[0].value).toMatchObject({ count: 1 });
    expect(m.get(N.SNAPSHOT_FLAGS)!.points[0].value).toMatchObject({ count: 1, sum: 2 });
  });

  it('names error types from status, code or error name', () => {
    expect(errorType(new FetchError(429, 'x'))).toBe('429');
    expect(errorType(new FetchError(undefined, 'x', { code: 'NETWORK' }))).toBe('network');
    expect(errorType(new TypeError('x'))).toBe('TypeError');
    expect(errorType('text')).toBe('_OTHER');
    expect(errorType(undefined)).toBe('_OTHER');
  });
});
