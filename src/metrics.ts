/**
 * Metrics of a local-evaluation client (`metrics` option): one object of
 * optional callbacks, called where the counted thing happens, so it can be
 * wired to Prometheus, StatsD or OpenTelemetry (see
 * `amplitude-experiment-native/opentelemetry`) without patching the SDK.
 * The list follows the Amplitude JVM SDK's LocalEvaluationMetrics, plus
 * stream failures, cohort sizes, dropped exposure events and snapshot installs.
 *
 * Callbacks are synchronous and must be cheap (onEvaluation runs on every
 * evaluateV2). One that throws is caught and logged once; the SDK goes on.
 */
import type { Logger } from './util/logger';
import { catchRejection } from './util/rejection';
import { errorMessage } from './util/error-message';

/** Which tracked events: exposure (exposureConfig) or assignment (assignmentConfig). */
export type TrackedEventKind = 'exposure' | 'assignment';

export interface LocalEvaluationMetrics {
  /** One evaluateV2 / evaluateV2Details call; `flagCount` variants (or details) returned. */
  onEvaluation?(flagCount: number): void;
  /** A flag-config request (initial load or poll) answered 200. */
  onFlagConfigFetch?(): void;
  /** A flag-config request failed (transport error or non-200 status); the last good flags stay. */
  onFlagConfigFetchFailure?(error: unknown): void;
  /** The flag stream failed to connect or dropped (it reconnects, polling meanwhile). */
  onStreamFailure?(error: unknown): void;
  /** A cohort was downloaded and loaded: its member count and body size in bytes. */
  onCohortDownload?(cohortId: string, memberCount: number, bytes: number): void;
  /** A cohort download gave up (after its retries, or rejected/too large); loaded members stay. */
  onCohortDownloadFailure?(cohortId: string, error: unknown): void;
  /** Tracked events the analytics endpoint accepted. */
  onTrackedEventsSent?(kind: TrackedEventKind, count: number): void;
  /** Tracked events that were not delivered (rejected by the endpoint, or failed to send). */
  onTrackedEventsDropped?(kind: TrackedEventKind, count: number, error: unknown): void;
  /** Evaluations whose events were not sent because the same user saw the same variants within the dedupe window. */
  onTrackedEventsDeduplicated?(kind: TrackedEventKind, count: number): void;
  /**
   * New flags went live: from `source` ('server', 'stream', 'file', 'bootstrap', ...), `flagCount` flags,
   * `durationMillis` from the payload's arrival to the swap (parsing, and downloading cohorts it newly references).
   */
  onSnapshotInstall?(durationMillis: number, flagCount: number, source: string): void;
}

/** Every callback present; each one calls the user's and never throws. */
export type MetricsSink = Required<LocalEvaluationMetrics>;

const NAMES = [
  'onEvaluation',
  'onFlagConfigFetch',
  'onFlagConfigFetchFailure',
  'onStreamFailure',
  'onCohortDownload',
  'onCohortDownloadFailure',
  'onTrackedEventsSent',
  'onTrackedEventsDropped',
  'onTrackedEventsDeduplicated',
  'onSnapshotInstall',
] as const satisfies readonly (keyof LocalEvaluationMetrics)[];

const noop = (): void => undefined;

/** The sink the SDK calls: no-ops where the user gave nothing; a throwing callback is logged once per name. */
export function createMetricsSink(metrics: LocalEvaluationMetrics | undefined, logger: Logger): MetricsSink {
  const sink = {} as Record<(typeof NAMES)[number], (...args: never[]) => void>;
  const reported = new Set<string>();
  for (const name of NAMES) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only its type or presence is read here, or it is called with its object
    const fn = metrics?.[name];
    if (typeof fn !== 'function') {
      sink[name] = noop;
      continue;
    }
    const report = (err: unknown): void => {
      if (reported.has(name)) return;
      reported.add(name);
      logger.error(`metrics.${name} threw: ${errorMessage(err)} (ignored; further errors are not logged)`);
    };
    sink[name] = (...args: never[]) => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: the union of callback types has no common `this`
        catchRejection((fn as (...a: never[]) => unknown).apply(metrics, args), report);
      } catch (err) {
        report(err);
      }
    };
  }
  return sink;
}

/** A sink that records nothing (components built without a client). */
export const NO_METRICS: MetricsSink = Object.freeze(Object.fromEntries(NAMES.map((n) => [n, noop])) as unknown as MetricsSink);

/** The names, for validating a `metrics` option and for implementations that forward every callback. */
export const METRIC_CALLBACKS: readonly (keyof LocalEvaluationMetrics)[] = NAMES;
