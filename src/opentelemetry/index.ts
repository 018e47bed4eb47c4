/**
 * OpenTelemetry for Amplitude Experiment local evaluation
 * (`amplitude-experiment-native/opentelemetry`; needs `@opentelemetry/api`):
 *
 *   const { TracingHook } = require('amplitude-experiment-native/opentelemetry');
 *   const client = Experiment.initializeLocal(key, { hooks: [new TracingHook()] });
 *
 * Only this entry point loads @opentelemetry/api (an optional peer dependency).
 * docs/observability.md
 */
export { TracingHook, createTracingHook, FeatureFlagSemconv, DEFAULT_PROVIDER_NAME } from './tracing';
export type { TracingHookOptions } from './tracing';
export { createOpenTelemetryMetrics, MetricNames, MetricAttributes, errorType } from './metrics';
export type { OpenTelemetryMetricsOptions } from './metrics';
