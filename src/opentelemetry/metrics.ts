/**
 * LocalEvaluationMetrics on OpenTelemetry metrics: counters and histograms
 * from a Meter (the global MeterProvider's by default), for the `metrics`
 * option of a local-evaluation client.
 */
import { type Attributes, type Meter, type MeterProvider, metrics as otelMetrics } from '@opentelemetry/api';
import type { LocalEvaluationMetrics, TrackedEventKind } from '../metrics';
import { VERSION } from '../version';

export interface OpenTelemetryMetricsOptions {
  /** Where the meter comes from. Default: the global provider (metrics.getMeterProvider()). */
  meterProvider?: MeterProvider;
  /** A meter to use as is (takes precedence over meterProvider). */
  meter?: Meter;
}

/** Instrument names (all start with `amplitude.experiment.`), for dashboards and tests. */
export const MetricNames = Object.freeze({
  EVALUATIONS: 'amplitude.experiment.evaluations',
  FLAG_FETCHES: 'amplitude.experiment.flag_config.fetches',
  FLAG_FETCH_FAILURES: 'amplitude.experiment.flag_config.fetch_failures',
  STREAM_FAILURES: 'amplitude.experiment.stream.failures',
  COHORT_DOWNLOADS: 'amplitude.experiment.cohort.downloads',
  COHORT_DOWNLOAD_FAILURES: 'amplitude.experiment.cohort.download_failures',
  COHORT_MEMBERS: 'amplitude.experiment.cohort.members',
  COHORT_DOWNLOAD_SIZE: 'amplitude.experiment.cohort.download.size',
  EVENTS_SENT: 'amplitude.experiment.tracked_events.sent',
  EVENTS_DROPPED: 'amplitude.experiment.tracked_events.dropped',
  EVENTS_DEDUPLICATED: 'amplitude.experiment.tracked_events.deduplicated',
  SNAPSHOT_INSTALLS: 'amplitude.experiment.snapshot.installs',
  SNAPSHOT_INSTALL_DURATION: 'amplitude.experiment.snapshot.install.duration',
  SNAPSHOT_FLAGS: 'amplitude.experiment.snapshot.flags',
});

/** Attribute names on those instruments. */
export const MetricAttributes = Object.freeze({
  ERROR_TYPE: 'error.type',
  COHORT_ID: 'amplitude.experiment.cohort.id',
  EVENT_KIND: 'amplitude.experiment.event.kind',
  SOURCE: 'amplitude.experiment.source',
});

/**
 * `error.type` for a failure: the HTTP status when the server answered, else the SDK's FetchError code
 * (timeout, network...), else the error's name.
 */
export function errorType(error: unknown): string {
  const e = error as { statusCode?: unknown; code?: unknown; name?: unknown } | null | undefined;
  if (e && typeof e.statusCode === 'number') return String(e.statusCode);
  if (e && typeof e.code === 'string' && e.code !== '') return e.code.toLowerCase();
  if (e && typeof e.name === 'string' && e.name !== '' && e.name !== 'Error') return e.name;
  return '_OTHER';
}

/** A LocalEvaluationMetrics that records into OpenTelemetry instruments. */
export function createOpenTelemetryMetrics(options: OpenTelemetryMetricsOptions = {}): Required<LocalEvaluationMetrics> {
  const meter =
    options.meter ?? (options.meterProvider ?? otelMetrics.getMeterProvider()).getMeter('amplitude-experiment-native', VERSION);
  const N = MetricNames;
  const A = MetricAttributes;
  const evaluations = meter.createCounter(N.EVALUATIONS, {
    description: 'evaluateV2 / evaluateV2Details calls',
    unit: '{evaluation}',
  });
  const fetches = meter.createCounter(N.FLAG_FETCHES, { description: 'Flag-config requests answered 200', unit: '{request}' });
  const fetchFailures = meter.createCounter(N.FLAG_FETCH_FAILURES, {
    description: 'Failed flag-config requests',
    unit: '{request}',
  });
  const streamFailures = meter.createCounter(N.STREAM_FAILURES, {
    description: 'Flag stream connect failures and drops',
    unit: '{failure}',
  });
  const cohortDownloads = meter.createCounter(N.COHORT_DOWNLOADS, {
    description: 'Cohorts downloaded and loaded',
    unit: '{cohort}',
  });
  const cohortFailures = meter.createCounter(N.COHORT_DOWNLOAD_FAILURES, {
    description: 'Cohort downloads given up',
    unit: '{cohort}',
  });
  const cohortMembers = meter.createHistogram(N.COHORT_MEMBERS, {
    description: 'Members of each downloaded cohort',
    unit: '{member}',
  });
  const cohortBytes = meter.createHistogram(N.COHORT_DOWNLOAD_SIZE, {
    description: 'Body size of each cohort download',
    unit: 'By',
  });
  const sent = meter.createCounter(N.EVENTS_SENT, {
    description: 'Tracked events accepted by the analytics endpoint',
    unit: '{event}',
  });
  const dropped = meter.createCounter(N.EVENTS_DROPPED, { description: 'Tracked events not delivered', unit: '{event}' });
  const deduplicated = meter.createCounter(N.EVENTS_DEDUPLICATED, {
    description: 'Evaluations whose tracked events were held back by the dedupe cache',
    unit: '{evaluation}',
  });
  const installs = meter.createCounter(N.SNAPSHOT_INSTALLS, { description: 'Flag snapshots installed', unit: '{install}' });
  const installDuration = meter.createHistogram(N.SNAPSHOT_INSTALL_DURATION, {
    description: 'From a flag payload arriving to its flags going live',
    unit: 's',
  });
  const snapshotFlags = meter.createHistogram(N.SNAPSHOT_FLAGS, {
    description: 'Flags in each installed snapshot',
    unit: '{flag}',
  });
  const kindAttributes: Record<TrackedEventKind, Attributes> = {
    exposure: { [A.EVENT_KIND]: 'exposure' },
    assignment: { [A.EVENT_KIND]: 'assignment' },
  };

  return {
    onEvaluation: () => evaluations.add(1),
    onFlagConfigFetch: () => fetches.add(1),
    onFlagConfigFetchFailure: (error) => fetchFailures.add(1, { [A.ERROR_TYPE]: errorType(error) }),
    onStreamFailure: (error) => streamFailures.add(1, { [A.ERROR_TYPE]: errorType(error) }),
    onCohortDownload: (cohortId, memberCount, bytes) => {
      const attributes = { [A.COHORT_ID]: cohortId };
      cohortDownloads.add(1, attributes);
      cohortMembers.record(memberCount, attributes);
      cohortBytes.record(bytes, attributes);
    },
    onCohortDownloadFailure: (cohortId, error) =>
      cohortFailures.add(1, { [A.COHORT_ID]: cohortId, [A.ERROR_TYPE]: errorType(error) }),
    onTrackedEventsSent: (kind, count) => sent.add(count, kindAttributes[kind]),
    onTrackedEventsDropped: (kind, count, error) =>
      dropped.add(count, { ...kindAttributes[kind], [A.ERROR_TYPE]: errorType(error) }),
    onTrackedEventsDeduplicated: (kind, count) => deduplicated.add(count, kindAttributes[kind]),
    onSnapshotInstall: (durationMillis, flagCount, source) => {
      const attributes = { [A.SOURCE]: source };
      installs.add(1, attributes);
      installDuration.record(durationMillis / 1000, attributes);
      snapshotFlags.record(flagCount, attributes);
    },
  };
}
