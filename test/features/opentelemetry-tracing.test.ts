/** The OpenTelemetry tracing hook, recorded through the OTel SDK's in-memory span exporter. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LocalEvaluationClient } from '../../src/local/client';
import { TracingHook, FeatureFlagSemconv as S } from '../../src/opentelemetry';
import { TestData } from '../../src/testing/test-data';

const td = new TestData();
td.update(
  td
    .flag('checkout')
    .variations({ on: { value: 'on' }, off: { value: 'off' } })
    .forUser('ada', 'on')
    .fallthroughVariation('off')
    .metadata({ flagVersion: 12 }),
  td
    .flag('color')
    .variations({ red: { value: '#f00' }, blue: { value: '#00f' } })
    .rollout({ red: 1, blue: 1 }, { bucketBy: 'user_id' }),
);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const contextManager = new AsyncLocalStorageContextManager();
const clients: LocalEvaluationClient[] = [];

function client(hook: TracingHook): LocalEvaluationClient {
  const c = new LocalEvaluationClient('k', { dataSource: td, hooks: [hook] });
  clients.push(c);
  return c;
}

/** Run fn inside an active span; return the finished span. */
function inSpan(fn: () => void) {
  tracer.startActiveSpan('request', (span) => {
    fn();
    span.end();
  });
  return exporter
    .getFinishedSpans()
    .filter((s) => s.name === 'request')
    .at(-1)!;
}

beforeAll(() => void context.setGlobalContextManager(contextManager.enable()));
afterAll(async () => {
  context.disable();
  await provider.shutdown();
  await Promise.all(clients.map((c) => c.close()));
});
afterEach(() => exporter.reset());

describe('TracingHook', () => {
  it('adds a feature_flag.evaluation event per requested flag to the active span', () => {
    const c = client(new TracingHook());
    const span = inSpan(() => c.evaluateV2({ user_id: 'ada' }, ['checkout']));
    expect(span.events.map((e) => e.name)).toEqual([S.EVENT]);
    expect(span.events[0].attributes).toEqual({
      'feature_flag.key': 'checkout',
      'feature_flag.provider.name': 'Amplitude Experiment',
      'feature_flag.result.variant': 'on',
      'feature_flag.context.id': 'ada',
      'feature_flag.version': '12',
    });
  });

  it('marks a default variant, and records every flag when none are named', () => {
    const c = client(new TracingHook({ includeContextId: false, setId: 'web/prod', providerName: 'amp' }));
    const span = inSpan(() => c.evaluateV2({ user_id: 'bob' }));
    const byKey = Object.fromEntries(span.events.map((e) => [e.attributes![S.KEY], e.attributes!]));
    expect(Object.keys(byKey).sort()).toEqual(['checkout', 'color']);
    expect(byKey.checkout).toMatchObject({ [S.RESULT_VARIANT]: 'off', [S.SET_ID]: 'web/prod', [S.PROVIDER_NAME]: 'amp' });
    expect(byKey.checkout[S.CONTEXT_ID]).toBeUndefined();
    // TestData's fallthrough is a segment variant, not Amplitude's default flag variant: no reason claimed.
    expect(byKey.checkout[S.RESULT_REASON]).toBeUndefined();
    expect(['red', 'blue']).toContain(byKey.color[S.RESULT_VARIANT]);
  });

  it('gives reasons, and flag_not_found, for evaluateV2Details', () => {
    const c = client(new TracingHook({ includeValue: true }));
    const span = inSpan(() => c.evaluateV2Details({ user_id: 'u7' }, ['color', 'nope']));
    const [color, nope] = span.events.map((e) => e.attributes!);
    expect(color).toMatchObject({ [S.KEY]: 'color', [S.RESULT_REASON]: 'split' });
    expect(color[S.RESULT_VALUE]).toBe(color[S.RESULT_VARIANT] === 'red' ? '#f00' : '#00f');
    expect(nope).toMatchObject({ [S.KEY]: 'nope', [S.RESULT_REASON]: 'error', [S.ERROR_TYPE]: 'flag_not_found' });
    const ada = inSpan(() => c.evaluateV2Details({ user_id: 'ada' }, ['checkout'])).events[0].attributes!;
    expect(ada).toMatchObject({ [S.RESULT_REASON]: 'targeting_match', [S.RESULT_VARIANT]: 'on', [S.RESULT_VALUE]: 'on' });
  });

  it('records nothing outside a span, and evaluation is unchanged', () => {
    const c = client(new TracingHook());
    expect(c.evaluateV2({ user_id: 'ada' }, ['checkout']).checkout.key).toBe('on');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('with spans: true, starts a child span per evaluation and puts the events on it', () => {
    const c = client(new TracingHook({ spans: true, tracerProvider: provider }));
    const parent = inSpan(() => c.evaluateV2({ user_id: 'ada' }, ['checkout']));
    const own = exporter.getFinishedSpans().find((s) => s.name === 'evaluateV2')!;
    expect(own).toBeDefined();
    expect(own.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(own.attributes).toMatchObject({ [S.KEY]: 'checkout', [S.PROVIDER_NAME]: 'Amplitude Experiment' });
    expect(own.events.map((e) => e.attributes![S.RESULT_VARIANT])).toEqual(['on']);
    expect(parent.events).toEqual([]);
    // Without a parent it is a root span.
    exporter.reset();
    c.evaluateV2({ user_id: 'bob' }, ['checkout']);
    const root = exporter.getFinishedSpans();
    expect(root.map((s) => s.name)).toEqual(['evaluateV2']);
    expect(root[0].parentSpanContext).toBeUndefined();
  });

  it('skips spans that are not recording (sampled out)', () => {
    const c = client(new TracingHook());
    const nonRecording = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 });
    let events = 0;
    const spy = new Proxy(nonRecording, {
      get: (t, p) => (p === 'addEvent' ? () => void events++ : Reflect.get(t, p)),
    });
    context.with(trace.setSpan(context.active(), spy), () => c.evaluateV2({ user_id: 'ada' }, ['checkout']));
    expect(events).toBe(0);
  });
});
