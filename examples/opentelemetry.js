// OpenTelemetry: each evaluation as a `feature_flag.evaluation` event on the active span (TracingHook), and the
// client's counters as OTel metrics (createOpenTelemetryMetrics). In-memory exporters here; in production use the
// NodeSDK with an OTLP exporter: the SDK only needs @opentelemetry/api's global providers.
// Run: npm run build:ts && node examples/opentelemetry.js
'use strict';
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const {
  MeterProvider,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  AggregationTemporality,
} = require('@opentelemetry/sdk-metrics');
const { LocalEvaluationClient, TestData } = require('amplitude-experiment-native');
const { TracingHook, createOpenTelemetryMetrics } = require('amplitude-experiment-native/opentelemetry');

async function main() {
  // What an OTel set-up registers globally (NodeSDK does this for you).
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });

  // The SDK part: a hook and a metrics option.
  const td = new TestData();
  td.update(
    td.flag('new-checkout').variations('on', 'off').forUser('ada', 'on').fallthroughVariation('off').metadata({ flagVersion: 4 }),
  );
  const client = new LocalEvaluationClient('server-key', {
    dataSource: td,
    hooks: [new TracingHook()],
    metrics: createOpenTelemetryMetrics({ meterProvider }),
  });

  const tracer = trace.getTracer('checkout-service');
  tracer.startActiveSpan('POST /checkout', (span) => {
    client.evaluateV2({ user_id: 'ada' }, ['new-checkout']);
    client.evaluateV2({ user_id: 'bob' }, ['new-checkout']);
    span.end();
  });

  for (const span of spans.getFinishedSpans()) {
    for (const event of span.events) {
      const a = event.attributes;
      console.log(
        `${span.name}: ${event.name} ${a['feature_flag.key']}=${a['feature_flag.result.variant']} for ${a['feature_flag.context.id']} (version ${a['feature_flag.version']})`,
      );
    }
  }
  await reader.forceFlush();
  for (const { scopeMetrics } of exporter.getMetrics()) {
    for (const { metrics } of scopeMetrics) {
      for (const m of metrics) {
        const p = m.dataPoints[0];
        console.log(`${m.descriptor.name}: ${typeof p.value === 'number' ? p.value : `count ${p.value.count}`}`);
      }
    }
  }
  await client.close();
  await meterProvider.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
