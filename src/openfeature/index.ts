/**
 * OpenFeature server provider for Amplitude Experiment local evaluation
 * (`amplitude-experiment-native/openfeature`; needs `@openfeature/server-sdk`):
 *
 *   const { OpenFeature } = require('@openfeature/server-sdk');
 *   const { AmplitudeProvider } = require('amplitude-experiment-native/openfeature');
 *   await OpenFeature.setProviderAndWait(new AmplitudeProvider(Experiment.initializeLocal(key)));
 *   const enabled = await OpenFeature.getClient().getBooleanValue('new-checkout', false, { targetingKey: 'u1' });
 *
 * Resolution uses evaluateV2Details, so every answer carries the Amplitude
 * variant key, a reason (TARGETING_MATCH, SPLIT, DEFAULT...) and flag metadata.
 * It never throws: failures come back as the default value with an error code.
 *
 * Provider events follow the client's events and status: CONFIGURATION_CHANGED
 * (flagsChanged) on each flag update, STALE when the flags go stale, ERROR when
 * the client has no usable flags, READY when it recovers (docs/openfeature.md).
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type JsonValue,
  type Logger,
  type Provider,
  type ResolutionDetails,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';
import type { LocalEvaluationClient } from '../local/client';
import type { ClientStatus, FlagsUpdatedEvent } from '../local/events';
import { isPermanentSourceError } from '../local/sources/types';
import type { EvaluationDetail } from '../engine/details';
import type { ExperimentUser, Variant } from '../types';
import { errorMessage } from '../util/error-message';

export interface AmplitudeProviderOptions {
  /** Call client.start() in initialize(). Default true (set false for a client you start yourself). */
  startClient?: boolean;
  /** Call client.close() in onClose() (OpenFeature.close()). Default false: the client is yours. */
  closeClient?: boolean;
}

/** ExperimentUser fields taken from the evaluation context as they are; other attributes go to user_properties. */
const USER_FIELDS = new Set([
  'user_id',
  'device_id',
  'country',
  'region',
  'dma',
  'city',
  'language',
  'platform',
  'version',
  'os',
  'device_manufacturer',
  'device_brand',
  'device_model',
  'carrier',
  'library',
  'ip_address',
  'user_properties',
  'groups',
  'group_properties',
  'cohort_ids',
  'group_cohort_ids',
]);

type FlagMetadata = Record<string, string | number | boolean>;

/**
 * The user for an evaluation context: `targetingKey` is the user_id (unless
 * `user_id` is given), ExperimentUser fields are copied, every other attribute
 * becomes a user property (Dates as ISO strings).
 */
export function contextToUser(context: EvaluationContext): ExperimentUser {
  const user: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (key === 'targetingKey' || value === undefined) continue;
    const v = value instanceof Date ? value.toISOString() : value;
    if (USER_FIELDS.has(key)) user[key] = v;
    else properties[key] = v;
  }
  if (user.user_id === undefined && typeof context.targetingKey === 'string' && context.targetingKey !== '') {
    user.user_id = context.targetingKey;
  }
  if (Object.keys(properties).length > 0) {
    const given = user.user_properties;
    user.user_properties = { ...(given !== null && typeof given === 'object' ? given : {}), ...properties };
  }
  return user;
}

class TypeMismatch extends Error {}

function toBoolean(variant: Variant): boolean {
  const value = variant.value;
  if (value === 'true' || value === 'on') return true;
  if (value === 'false' || value === 'off') return false;
  throw new TypeMismatch(`variant ${variant.key} has value ${JSON.stringify(value)}, not a boolean ('on'/'off', 'true'/'false')`);
}

function toNumber(variant: Variant): number {
  const value = variant.value;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new TypeMismatch(`variant ${variant.key} has value ${JSON.stringify(value)}, not a number`);
  return n;
}

function toStringValue(variant: Variant): string {
  const value = variant.value ?? variant.key;
  if (typeof value !== 'string') throw new TypeMismatch(`variant has no string value`);
  return value;
}

function toObject(variant: Variant): JsonValue {
  const isObject = (v: unknown): boolean => v !== null && typeof v === 'object';
  if (variant.payload !== undefined) {
    if (isObject(variant.payload)) return variant.payload as JsonValue;
    throw new TypeMismatch(`variant ${variant.key} has a payload that is not an object`);
  }
  if (typeof variant.value === 'string') {
    try {
      const parsed: unknown = JSON.parse(variant.value);
      if (isObject(parsed)) return parsed as JsonValue;
    } catch {
      // fall through
    }
  }
  throw new TypeMismatch(`variant ${variant.key} has neither an object payload nor a JSON object value`);
}

const REASONS: Record<EvaluationDetail['reason'], string> = {
  TARGETING_MATCH: StandardResolutionReasons.TARGETING_MATCH,
  DEPENDENCY: StandardResolutionReasons.TARGETING_MATCH,
  SPLIT: StandardResolutionReasons.SPLIT,
  DEFAULT: StandardResolutionReasons.DEFAULT,
  NO_MATCH: StandardResolutionReasons.DEFAULT,
  UNEXPLAINED: StandardResolutionReasons.UNKNOWN,
};

function metadataOf(detail: EvaluationDetail): FlagMetadata {
  const out: FlagMetadata = {};
  for (const [k, v] of Object.entries(detail.flagMetadata)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  out.amplitudeReason = detail.reason;
  out.segmentIndex = detail.segmentIndex;
  if (detail.segmentName !== undefined) out.segmentName = detail.segmentName;
  if (detail.dependency) out.dependency = detail.dependency.flagKey;
  if (detail.bucket?.value != null && detail.bucket.hash !== undefined) out.bucketHash = detail.bucket.hash;
  if (detail.missingCohorts.length > 0) out.missingCohorts = detail.missingCohorts.join(',');
  return out;
}

/** The provider states that events announce (the client's 'initializing' and 'closed' announce nothing). */
type AnnouncedState = 'ready' | 'stale' | 'error';

function announcedState(status: ClientStatus): AnnouncedState | undefined {
  return status.state === 'ready' || status.state === 'stale' || status.state === 'error' ? status.state : undefined;
}

export class AmplitudeProvider implements Provider {
  readonly metadata = { name: 'amplitude-experiment-native' } as const;
  readonly runsOn = 'server' as const;
  /** Provider events (the OpenFeature SDK subscribes to these). */
  readonly events = new OpenFeatureEventEmitter();
  private readonly options: Required<AmplitudeProviderOptions>;
  /** The state the OpenFeature SDK last heard of; events are sent on changes once initialize() has settled. */
  private announced: AnnouncedState | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly client: LocalEvaluationClient,
    options: AmplitudeProviderOptions = {},
  ) {
    this.options = { startClient: options.startClient ?? true, closeClient: options.closeClient ?? false };
  }

  async initialize(): Promise<void> {
    this.subscribe();
    try {
      if (this.options.startClient) await this.client.start();
    } catch (err) {
      // The SDK turns this rejection into ERROR (FATAL for a rejected key: retrying cannot fix it).
      this.announced = 'error';
      if (!isPermanentSourceError(err)) throw err;
      throw Object.assign(new Error(errorMessage(err), { cause: err }), { code: ErrorCode.PROVIDER_FATAL });
    }
    this.announced = 'ready';
    // The SDK announces READY when this resolves; flags that are already stale (last-known-good) follow as STALE.
    setImmediate(() => {
      if (this.unsubscribe !== undefined) this.announce(this.client.status());
    });
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.options.closeClient) await this.client.close();
  }

  private subscribe(): void {
    if (this.unsubscribe !== undefined) return;
    const onUpdate = (e: FlagsUpdatedEvent): void => {
      if (this.announced === undefined) return; // the first flags, before READY
      this.events.emit(ProviderEvents.ConfigurationChanged, {
        flagsChanged: [...e.flagKeys],
        message: `flags updated from ${e.source}`,
      });
    };
    const onStatus = (status: ClientStatus): void => {
      if (this.announced !== undefined) this.announce(status);
    };
    this.client.on('update', onUpdate);
    this.client.on('status', onStatus);
    this.unsubscribe = () => {
      this.client.off('update', onUpdate);
      this.client.off('status', onStatus);
    };
  }

  /** Send READY, STALE or ERROR when the client's state differs from what the SDK last heard. */
  private announce(status: ClientStatus): void {
    const next = announcedState(status);
    if (next === undefined || next === this.announced) return;
    this.announced = next;
    if (next === 'ready') {
      this.events.emit(ProviderEvents.Ready, { message: `flags from ${status.source ?? 'unknown source'} are current` });
    } else if (next === 'stale') {
      const since = status.lastUpdatedAt === undefined ? '' : ` since ${new Date(status.lastUpdatedAt).toISOString()}`;
      this.events.emit(ProviderEvents.Stale, {
        message: `flags from ${status.source ?? 'unknown source'} are stale (not refreshed${since}${status.lastError ? `; last error: ${status.lastError}` : ''})`,
      });
    } else {
      this.events.emit(ProviderEvents.Error, {
        message: status.lastError ?? 'flags could not be loaded',
        errorCode: ErrorCode.GENERAL,
      });
    }
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, logger, toBoolean));
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, logger, toStringValue));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, logger, toNumber));
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, logger, (v) => toObject(v) as T));
  }

  /** Synchronous resolution (the client evaluates in memory); never throws. */
  resolve<T>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    logger: Logger | undefined,
    convert: (variant: Variant) => T,
  ): ResolutionDetails<T> {
    const failure = (
      errorCode: ErrorCode,
      errorMessage: string,
      extra: Partial<ResolutionDetails<T>> = {},
    ): ResolutionDetails<T> => ({
      value: defaultValue,
      reason: StandardResolutionReasons.ERROR,
      errorCode,
      errorMessage,
      ...extra,
    });
    try {
      if (!this.client.hasFlags) {
        return failure(ErrorCode.PROVIDER_NOT_READY, 'flags are not loaded yet (client not started, or start() failed)');
      }
      const detail = this.client.evaluateV2Details(contextToUser(context ?? {}), [flagKey])[flagKey];
      if (detail === undefined) return failure(ErrorCode.FLAG_NOT_FOUND, `flag ${flagKey} is not in the flag configs`);
      const flagMetadata = metadataOf(detail);
      const variant = detail.variant;
      if (variant === undefined || (variant.metadata?.default === true && variant.value === undefined)) {
        // No variant, or Amplitude's default ('off') variant with no value: the caller's default.
        return { value: defaultValue, variant: variant?.key, reason: StandardResolutionReasons.DEFAULT, flagMetadata };
      }
      try {
        return { value: convert(variant), variant: variant.key, reason: REASONS[detail.reason], flagMetadata };
      } catch (err) {
        if (err instanceof TypeMismatch)
          return failure(ErrorCode.TYPE_MISMATCH, err.message, { variant: variant.key, flagMetadata });
        throw err;
      }
    } catch (err) {
      const message = errorMessage(err);
      logger?.error(`amplitude provider: evaluating ${flagKey} failed: ${message}`);
      return failure(ErrorCode.GENERAL, message);
    }
  }
}
