/**
 * An evaluation hook that records each flag evaluation in OpenTelemetry
 * traces, as the semantic conventions for feature flags define it: an event
 * named `feature_flag.evaluation` with `feature_flag.*` attributes, added to
 * the active span (default) or to a span of its own per evaluateV2 call.
 */
import { type Attributes, type Span, SpanKind, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import type { EvaluationDetail, EvaluationReason } from '../engine/details';
import type { EvaluationHook, EvaluationHookContext, EvaluationHookResult } from '../local/hooks';
import type { Variant } from '../types';
import { VERSION } from '../version';

/** Names from the OpenTelemetry semantic conventions (feature-flag events and attribute registry). */
export const FeatureFlagSemconv = Object.freeze({
  EVENT: 'feature_flag.evaluation',
  KEY: 'feature_flag.key',
  PROVIDER_NAME: 'feature_flag.provider.name',
  RESULT_VARIANT: 'feature_flag.result.variant',
  RESULT_VALUE: 'feature_flag.result.value',
  RESULT_REASON: 'feature_flag.result.reason',
  CONTEXT_ID: 'feature_flag.context.id',
  SET_ID: 'feature_flag.set.id',
  VERSION: 'feature_flag.version',
  ERROR_TYPE: 'error.type',
  ERROR_MESSAGE: 'error.message',
});

export const DEFAULT_PROVIDER_NAME = 'Amplitude Experiment';
const TRACER_NAME = 'amplitude-experiment-native';

export interface TracingHookOptions {
  /**
   * Also start a span per evaluateV2 / evaluateV2Details call (a child of the active span, named after the
   * method) and put the events on it. Default false: events go on the active span, and an evaluation outside
   * any span records nothing.
   */
  spans?: boolean;
  /** Add `feature_flag.result.value` (the variant's value). Default false: values can be large or sensitive. */
  includeValue?: boolean;
  /** Add `feature_flag.context.id` (the user's user_id, else device_id). Default true. */
  includeContextId?: boolean;
  /** `feature_flag.set.id` on every event: a name for the flag set (your project or deployment), if you want one. */
  setId?: string;
  /** `feature_flag.provider.name`. Default 'Amplitude Experiment'. */
  providerName?: string;
  /** Where tracers come from. Default: the global provider (trace.getTracerProvider()). */
  tracerProvider?: TracerProvider;
}

/** The conventions' well-known `feature_flag.result.reason` values for this SDK's reasons. */
const REASONS: Record<EvaluationReason, string> = {
  TARGETING_MATCH: 'targeting_match',
  DEPENDENCY: 'targeting_match',
  SPLIT: 'split',
  DEFAULT: 'default',
  NO_MATCH: 'default',
  UNEXPLAINED: 'unknown',
};

function attributeValue(value: unknown): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * The hook. Register it with `hooks: [new TracingHook()]` or `client.addHook(...)`; it works for
 * evaluateV2 (variant, version) and evaluateV2Details (plus the reason).
 */
export class TracingHook implements EvaluationHook<Span | undefined> {
  readonly name = 'opentelemetry-tracing';
  private readonly spans: boolean;
  private readonly includeValue: boolean;
  private readonly includeContextId: boolean;
  private readonly providerName: string;
  private readonly setId: string | undefined;
  private readonly tracerProvider: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  constructor(options: TracingHookOptions = {}) {
    this.spans = options.spans === true;
    this.includeValue = options.includeValue === true;
    this.includeContextId = options.includeContextId !== false;
    this.tracerProvider = options.tracerProvider;
    this.providerName = options.providerName ?? DEFAULT_PROVIDER_NAME;
    this.setId = options.setId;
  }

  beforeEvaluation(context: EvaluationHookContext): Span | undefined {
    if (!this.spans) return undefined;
    // Looked up on first use, so a provider registered after the hook is created is still found.
    this.tracer ??= (this.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, VERSION);
    const attributes = this.baseAttributes();
    const keys = context.flagKeys;
    if (keys !== undefined && keys.length === 1) attributes[FeatureFlagSemconv.KEY] = keys[0];
    return this.tracer.startSpan(context.method, { kind: SpanKind.INTERNAL, attributes });
  }

  afterEvaluation(context: EvaluationHookContext, result: EvaluationHookResult, own: Span | undefined): void {
    const span = own ?? trace.getActiveSpan();
    if (span === undefined) return;
    try {
      if (span.isRecording()) this.record(span, context, result);
    } finally {
      own?.end();
    }
  }

  private record(span: Span, context: EvaluationHookContext, result: EvaluationHookResult): void {
    const user = context.user;
    const contextId = this.includeContextId ? (user?.user_id ?? user?.device_id) : undefined;
    const details = result.details;
    const variants = result.variants;
    const requested = context.flagKeys;
    const keys = requested !== undefined && requested.length > 0 ? requested : Object.keys(details ?? variants);
    for (const key of keys) {
      const attributes = this.baseAttributes();
      attributes[FeatureFlagSemconv.KEY] = key;
      if (contextId !== undefined) attributes[FeatureFlagSemconv.CONTEXT_ID] = contextId;
      if (details !== undefined) this.fromDetail(attributes, details[key]);
      else this.fromVariant(attributes, variants[key]);
      span.addEvent(FeatureFlagSemconv.EVENT, attributes);
    }
  }

  /**
   * A fresh object per event, built by assignment: spreading a shared object with dotted keys costs V8 tens of
   * microseconds per event (measured with bench/otel.js).
   */
  private baseAttributes(): Attributes {
    const attributes: Attributes = { [FeatureFlagSemconv.PROVIDER_NAME]: this.providerName };
    if (this.setId !== undefined) attributes[FeatureFlagSemconv.SET_ID] = this.setId;
    return attributes;
  }

  /** evaluateV2: no reason is computed, except that a default variant (or none) is the default. */
  private fromVariant(attributes: Attributes, variant: Variant | undefined): void {
    if (variant === undefined) {
      attributes[FeatureFlagSemconv.RESULT_REASON] = 'default';
      return;
    }
    this.variantAttributes(attributes, variant);
    if (variant.metadata?.default === true) attributes[FeatureFlagSemconv.RESULT_REASON] = 'default';
  }

  private fromDetail(attributes: Attributes, detail: EvaluationDetail | undefined): void {
    if (detail === undefined) {
      attributes[FeatureFlagSemconv.RESULT_REASON] = 'error';
      attributes[FeatureFlagSemconv.ERROR_TYPE] = 'flag_not_found';
      return;
    }
    if (detail.variant !== undefined) this.variantAttributes(attributes, detail.variant);
    attributes[FeatureFlagSemconv.RESULT_REASON] = REASONS[detail.reason] ?? 'unknown';
    const version = attributeValue(detail.flagMetadata?.flagVersion);
    if (version !== undefined) attributes[FeatureFlagSemconv.VERSION] = String(version);
  }

  private variantAttributes(attributes: Attributes, variant: Variant): void {
    if (variant.key !== undefined) attributes[FeatureFlagSemconv.RESULT_VARIANT] = variant.key;
    if (this.includeValue || variant.key === undefined) {
      // The conventions require the value when there is no variant key.
      const value = attributeValue(variant.value);
      if (value !== undefined) attributes[FeatureFlagSemconv.RESULT_VALUE] = value;
    }
    const version = attributeValue(variant.metadata?.flagVersion);
    if (version !== undefined) attributes[FeatureFlagSemconv.VERSION] = String(version);
  }
}

/** `new TracingHook(options)`, for those who prefer a factory. */
export function createTracingHook(options?: TracingHookOptions): TracingHook {
  return new TracingHook(options);
}
