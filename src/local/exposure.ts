/**
 * Exposure tracking (`exposureConfig` + `EvaluateOptions.tracksExposure`)
 * and deprecated assignment tracking (`assignmentConfig`), with the official
 * Node SDK's event types, properties, user properties and insert_id scheme
 * (its src/exposure and src/assignment). Dedupe: an LRU (lru-cache) of the
 * canonical evaluation string with a 24 h TTL counted from insertion; a hit
 * refreshes recency, not age, as the official cache does.
 *
 * Events go through a private `@amplitude/analytics-node` instance per
 * tracker, required lazily here: a client without tracking never loads it.
 * Every option of the config besides apiKey, cacheCapacity and
 * sendEvaluatedProps goes to analytics-node's init (serverUrl, serverZone,
 * flushIntervalMillis, ...).
 */
import type { LRUCache } from 'lru-cache';
import { createLru } from '../util/lru';
import { type AssignmentConfig, AssignmentConfigDefaults, type ExposureConfig, ExposureConfigDefaults } from '../config/local';
import type { ExperimentUser, Variant, Variants } from '../types';
import type { Logger } from '../util/logger';
import { errorMessage } from '../util/error-message';
import { type MetricsSink, NO_METRICS, type TrackedEventKind } from '../metrics';
import { createProxyTransport } from './analytics-transport';
import { flushTimeoutOf, settledWithin } from '../util/flush-timeout';

export const DAY_MILLIS = 24 * 60 * 60 * 1000;
export const FLAG_TYPE_MUTUAL_EXCLUSION_GROUP = 'mutual-exclusion-group';

/** The analytics event this module sends (analytics-node's BaseEvent subset). */
export interface TrackedEvent {
  event_type: string;
  user_id?: string;
  device_id?: string;
  event_properties: Record<string, unknown>;
  user_properties: Record<string, unknown>;
  insert_id?: string;
  groups?: Record<string, unknown>;
  [field: string]: unknown;
}

/** What this module needs of an analytics-node instance. */
export interface AnalyticsInstance {
  init(apiKey: string, options?: Record<string, unknown>): { promise: Promise<unknown> };
  logEvent(event: TrackedEvent): { promise: Promise<unknown> };
  flush(): { promise: Promise<unknown> };
}

export type AnalyticsFactory = () => AnalyticsInstance;

/** What the client adds to both trackers. */
export interface TrackingOptions {
  metrics?: MetricsSink;
  /** Send events through HTTP_PROXY / HTTPS_PROXY (unless the config gives its own transportProvider). */
  proxyFromEnv?: boolean;
}

/** analytics-node's result for one event: code 200 means the endpoint accepted it. */
function deliveryError(result: unknown): Error | undefined {
  const r = result as { code?: unknown; message?: unknown } | undefined;
  if (r && typeof r.code === 'number' && r.code >= 200 && r.code < 300) return undefined;
  const message = r && typeof r.message === 'string' && r.message ? r.message : 'event not accepted';
  if (!r || typeof r.code !== 'number') return new Error(message);
  // statusCode as on FetchError, so metrics can tell a 400 from a 429.
  return Object.assign(new Error(`${message} (code ${r.code})`), { statusCode: r.code });
}

/** The lazy require: only called when tracking is configured. */
export function defaultAnalyticsFactory(): AnalyticsInstance {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const analytics = require('@amplitude/analytics-node') as { createInstance(): AnalyticsInstance };
  return analytics.createInstance();
}

/** Java-style String.hashCode, signed 32-bit, as the official SDK's util/hash. */
export function hashCode(s: string): number {
  let hash = 0;
  for (let i = 0; i < s.length; i++) {
    hash = (hash << 5) - hash + s.charCodeAt(i);
    hash |= 0;
  }
  return hash;
}

function safeStringTrim(value: unknown): string {
  if (value === null || value === undefined) return '';
  return (typeof value === 'string' ? value : String(value)).trim();
}

/** The dedupe key: `${user_id} ${device_id} ` then `${flagKey} ${variantKey} ` for each keyed result, keys sorted. */
export function canonicalize(user: ExperimentUser, results: Variants): string {
  let canonical = `${safeStringTrim(user.user_id)} ${safeStringTrim(user.device_id)} `;
  for (const key of Object.keys(results).sort()) {
    const variant = results[key];
    if (variant?.key) canonical += safeStringTrim(key) + ' ' + safeStringTrim(variant.key) + ' ';
  }
  return canonical;
}

/** One event per flag, as the official toExposureEvents. */
export function toExposureEvents(
  user: ExperimentUser,
  results: Variants,
  timestamp: number,
  ttlMillis: number = DAY_MILLIS,
  canonical: string = canonicalize(user, results),
): TrackedEvent[] {
  const events: TrackedEvent[] = [];
  for (const flagKey in results) {
    const variant: Variant = results[flagKey];
    const metadata = variant?.metadata;
    const trackExposure = metadata?.trackExposure ?? true;
    if (!trackExposure) continue;
    if (metadata?.default) continue;
    const set: Record<string, unknown> = {};
    const unset: Record<string, unknown> = {};
    if (metadata?.flagType != FLAG_TYPE_MUTUAL_EXCLUSION_GROUP) {
      if (variant.key) set[`[Experiment] ${flagKey}`] = variant.key;
      else if (variant.value) set[`[Experiment] ${flagKey}`] = variant.value;
    }
    const eventProperties: Record<string, unknown> = { '[Experiment] Flag Key': flagKey };
    if (variant.key) eventProperties['[Experiment] Variant'] = variant.key;
    else if (variant.value) eventProperties['[Experiment] Variant'] = variant.value;
    const experimentKey = metadata?.experimentKey;
    if (experimentKey) eventProperties['[Experiment] Experiment Key'] = experimentKey;
    if (metadata) eventProperties['metadata'] = metadata;
    const event: TrackedEvent = {
      event_type: '[Experiment] Exposure',
      user_id: user.user_id,
      device_id: user.device_id,
      event_properties: eventProperties,
      user_properties: { $set: set, $unset: unset },
      insert_id: `${user.user_id} ${user.device_id} ${hashCode(flagKey + ' ' + canonical)} ${Math.floor(timestamp / ttlMillis)}`,
    };
    if (user.groups) event.groups = user.groups;
    events.push(event);
  }
  return events;
}

/** User fields the Python SDK's send_evaluated_props copies onto assignment events. */
const EVALUATED_USER_FIELDS = [
  'country',
  'city',
  'region',
  'dma',
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
] as const;

/** One event per evaluation, as the official assignment toEvent (plus the Python SDK's sendEvaluatedProps). */
export function toAssignmentEvent(
  user: ExperimentUser,
  results: Variants,
  timestamp: number,
  sendEvaluatedProps = false,
  canonical: string = canonicalize(user, results),
): TrackedEvent {
  const event: TrackedEvent = {
    event_type: '[Experiment] Assignment',
    user_id: user.user_id,
    device_id: user.device_id,
    event_properties: {},
    user_properties: {},
  };
  if (sendEvaluatedProps) {
    const source = user as Record<string, unknown>;
    for (const field of EVALUATED_USER_FIELDS) {
      if (source[field] !== undefined && source[field] !== null) event[field] = source[field];
    }
    if (user.user_properties && typeof user.user_properties === 'object') {
      event.user_properties = { ...user.user_properties };
    }
  }
  const set: Record<string, unknown> = {};
  const unset: Record<string, unknown> = {};
  for (const flagKey in results) {
    const variant = results[flagKey];
    if (!variant?.key) continue;
    const metadata = variant.metadata;
    const version = metadata?.flagVersion;
    const segmentName = metadata?.segmentName;
    event.event_properties[`${flagKey}.variant`] = variant.key;
    if (version && segmentName) event.event_properties[`${flagKey}.details`] = `v${String(version)} rule:${String(segmentName)}`;
    if (metadata?.flagType != FLAG_TYPE_MUTUAL_EXCLUSION_GROUP) {
      if (metadata?.default) unset[`[Experiment] ${flagKey}`] = '-';
      else set[`[Experiment] ${flagKey}`] = variant.key;
    }
  }
  event.user_properties['$set'] = set;
  event.user_properties['$unset'] = unset;
  event.insert_id = `${event.user_id} ${event.device_id} ${hashCode(canonical)} ${Math.floor(timestamp / DAY_MILLIS)}`;
  return event;
}

/** Dedupe: LRU of canonical strings, TTL from insertion (a hit refreshes recency only). */
export class TrackingFilter {
  private readonly cache: LRUCache<string, true>;

  constructor(
    capacity: number,
    readonly ttlMillis: number = DAY_MILLIS,
  ) {
    this.cache = createLru<string, true>(capacity, {
      ttl: ttlMillis,
      updateAgeOnGet: false,
      updateAgeOnHas: false,
    });
  }

  /** True the first time a canonical string is seen within the TTL (and records it). */
  shouldTrack(canonical: string): boolean {
    if (this.cache.get(canonical) !== undefined) return false;
    this.cache.set(canonical, true);
    return true;
  }

  get size(): number {
    return this.cache.size;
  }
}

interface TrackerConfig {
  apiKey: string;
  cacheCapacity?: number;
  [option: string]: unknown;
}

/** analytics-node's logger interface, forwarding to the SDK's logger. */
function analyticsLoggerFor(logger: Logger): Record<string, (...args: unknown[]) => void> {
  const text = (args: unknown[]) =>
    'analytics: ' + args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : safeJson(a))).join(' ');
  return {
    disable: () => undefined,
    enable: () => undefined,
    log: (...args) => logger.info(text(args)),
    debug: (...args) => logger.debug(text(args)),
    warn: (...args) => logger.warn(text(args)),
    error: (...args) => logger.error(text(args)),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One analytics-node instance plus its filter. */
abstract class Tracker {
  protected readonly analytics: AnalyticsInstance;
  protected readonly filter: TrackingFilter;
  private failures = 0;

  protected readonly metrics: MetricsSink;

  constructor(
    protected readonly kind: TrackedEventKind,
    config: TrackerConfig,
    defaults: { cacheCapacity: number },
    protected readonly logger: Logger,
    factory: AnalyticsFactory,
    extraOwnOptions: readonly string[] = [],
    options: TrackingOptions = {},
  ) {
    const { apiKey, cacheCapacity, ...rest } = config;
    for (const own of extraOwnOptions) delete rest[own];
    this.metrics = options.metrics ?? NO_METRICS;
    if (options.proxyFromEnv === true && rest.transportProvider === undefined) rest.transportProvider = createProxyTransport();
    // analytics-node logs to the console by default; route it through the
    // SDK's logger (which applies the SDK's level) unless the caller gave one.
    if (rest.loggerProvider === undefined) rest.loggerProvider = analyticsLoggerFor(logger);
    this.filter = new TrackingFilter(typeof cacheCapacity === 'number' ? cacheCapacity : defaults.cacheCapacity);
    this.analytics = factory();
    this.observe(this.analytics.init(apiKey, rest).promise, 'analytics init');
  }

  protected send(event: TrackedEvent): void {
    const delivered = this.analytics.logEvent(event).promise;
    this.observe(
      delivered?.then(
        (result) => {
          const error = deliveryError(result);
          if (error === undefined) this.metrics.onTrackedEventsSent(this.kind, 1);
          else this.metrics.onTrackedEventsDropped(this.kind, 1, error);
        },
        (err: unknown) => {
          this.metrics.onTrackedEventsDropped(this.kind, 1, err);
          throw err;
        },
      ),
      'event',
    );
  }

  /** True when the filter lets this evaluation's events through; counts the ones it holds back. */
  protected admit(canonical: string): boolean {
    if (this.filter.shouldTrack(canonical)) return true;
    this.metrics.onTrackedEventsDeduplicated(this.kind, 1);
    return false;
  }

  private observe(promise: Promise<unknown> | undefined, what: string): void {
    promise?.catch((err: unknown) => {
      if (this.failures++ < 5) this.logger.error(`tracking ${what} failed: ${errorMessage(err)}`);
    });
  }

  /** Send queued events; resolves when done or after timeoutMillis (never rejects). */
  async flush(timeoutMillis: number | undefined): Promise<boolean> {
    let sent = false;
    const flushed = Promise.resolve()
      .then(() => this.analytics.flush().promise)
      .then(
        () => {
          sent = true;
        },
        (err: unknown) => {
          this.logger.error(`tracking flush failed: ${errorMessage(err)}`);
        },
      );
    return (await settledWithin(flushed, timeoutMillis)) && sent;
  }
}

export class ExposureTracker extends Tracker {
  constructor(
    config: ExposureConfig,
    logger: Logger,
    factory: AnalyticsFactory = defaultAnalyticsFactory,
    options: TrackingOptions = {},
  ) {
    super('exposure', config, ExposureConfigDefaults, logger, factory, [], options);
  }

  track(user: ExperimentUser, results: Variants): void {
    if (Object.keys(results).length === 0) return;
    const canonical = canonicalize(user, results);
    if (!this.admit(canonical)) return;
    for (const event of toExposureEvents(user, results, Date.now(), this.filter.ttlMillis, canonical)) this.send(event);
  }
}

export class AssignmentTracker extends Tracker {
  private readonly sendEvaluatedProps: boolean;

  constructor(
    config: AssignmentConfig,
    logger: Logger,
    factory: AnalyticsFactory = defaultAnalyticsFactory,
    options: TrackingOptions = {},
  ) {
    super('assignment', config, AssignmentConfigDefaults, logger, factory, ['sendEvaluatedProps'], options);
    this.sendEvaluatedProps = config.sendEvaluatedProps === true;
  }

  track(user: ExperimentUser, results: Variants): void {
    if (Object.keys(results).length === 0) return;
    const canonical = canonicalize(user, results);
    if (!this.admit(canonical)) return;
    this.send(toAssignmentEvent(user, results, Date.now(), this.sendEvaluatedProps, canonical));
  }
}

/** Both trackers, as the client uses them after each evaluation. */
export class Tracking {
  private warnedNoExposureConfig = false;

  constructor(
    private readonly exposure: ExposureTracker | undefined,
    private readonly assignment: AssignmentTracker | undefined,
    private readonly logger: Logger,
  ) {}

  onEvaluate(user: ExperimentUser, results: Variants, tracksExposure: boolean | undefined): void {
    try {
      this.assignment?.track(user, results);
      if (tracksExposure === true) {
        if (this.exposure) this.exposure.track(user, results);
        else if (!this.warnedNoExposureConfig) {
          this.warnedNoExposureConfig = true;
          this.logger.warn('tracksExposure is set but no exposureConfig was given: exposures are not tracked');
        }
      }
    } catch (err) {
      this.logger.error(`tracking failed: ${errorMessage(err)}`);
    }
  }

  /** Flush both trackers in parallel within timeoutMillis. */
  async flush(timeoutMillis?: number): Promise<void> {
    const results = await Promise.all([this.exposure?.flush(timeoutMillis), this.assignment?.flush(timeoutMillis)]);
    if (results.some((r) => r === false)) {
      this.logger.warn(`tracking events not confirmed sent within ${flushTimeoutOf(timeoutMillis)} ms`);
    }
  }
}

/** Trackers for the configured options, or undefined when nothing is tracked (analytics-node then never loads). */
export function createTracking(
  exposureConfig: ExposureConfig | undefined,
  assignmentConfig: AssignmentConfig | undefined,
  logger: Logger,
  factory: AnalyticsFactory = defaultAnalyticsFactory,
  options: TrackingOptions = {},
): Tracking | undefined {
  if (!exposureConfig && !assignmentConfig) return undefined;
  return new Tracking(
    exposureConfig ? new ExposureTracker(exposureConfig, logger, factory, options) : undefined,
    assignmentConfig ? new AssignmentTracker(assignmentConfig, logger, factory, options) : undefined,
    logger,
  );
}
