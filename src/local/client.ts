/**
 * Local evaluation: flag configs arrive through one flag source (polling,
 * streaming, a file, a data source, ...; see sources/) into one snapshot
 * holder; evaluateV2 runs synchronously in the native engine.
 */
import { loadEngine, type Engine } from '../engine';
import type { CohortStore } from '../engine/cohort-store';
import { type FlagBootstrap, type LocalEvaluationConfig, type ResolvedLocalConfig, resolveLocalConfig } from '../config/local';
import type { ExperimentUser, Variant, Variants } from '../types';
import { HttpClient } from '../util/http';
import { filterDefaultVariants } from '../util/variant';
import type { Logger } from '../util/logger';
import { enrichUser } from './cohort-utils';
import type { Tracking } from './exposure';
import type { FlagPersistence } from './persistence';
import type { EvaluationHook, HookRunner } from './hooks';
import type { EvaluationDetails } from '../engine/details';
import { internalsOf, type LocalClientInternals } from './internals';
import { createMetricsSink, type MetricsSink } from '../metrics';
import { ClientEvents, type ClientStatus, type LocalClientEventName, type LocalClientListener } from './events';
import { StatusTracker } from './status';
import { type Installed, SnapshotHolder } from './sources/snapshot-holder';
import { planSources } from './sources/plan';
import type { FleetStatus } from '../redis/fleet-source';
import { ClientFlagCache } from './client-cache';
import { type FlagConfigCache, type InMemoryFlagConfigCache, isFlagConfigCache } from './compat/cache';
import { isPermanentSourceError, type SourcePlan } from './sources/types';
import type { ProxyMemberships } from '../proxy/memberships';
import { lazy } from '../util/lazy';
import { errorMessage } from '../util/error-message';

// Loaded when a client is configured for them (hooks, update listeners, evaluateV2Details...):
// `require()` of the package loads only what a polling client evaluating flags needs.
/* eslint-disable @typescript-eslint/no-require-imports -- literal requires, loaded lazily, visible to bundlers and file tracers */
const loadCohortStore = lazy(() => require('../engine/cohort-store') as typeof import('../engine/cohort-store'));
const loadExposure = lazy(() => require('./exposure') as typeof import('./exposure'));
const loadPersistence = lazy(() => require('./persistence') as typeof import('./persistence'));
const loadHooks = lazy(() => require('./hooks') as typeof import('./hooks'));
const loadFlagDiff = lazy(() => require('./flag-diff') as typeof import('./flag-diff'));
const loadDetails = lazy(() => require('../engine/details') as typeof import('../engine/details'));
const loadMemberships = lazy(() => require('../proxy/memberships') as typeof import('../proxy/memberships'));
/* eslint-enable @typescript-eslint/no-require-imports */

export interface EvaluateOptions {
  /** Track an exposure event for each evaluated variant (needs exposureConfig). */
  tracksExposure?: boolean;
}

export interface CloseOptions {
  /**
   * How long close() waits for tracked events to be sent, and for the FlagConfigCache given to the constructor to
   * take the last flag update. Default 10000 (also for a value that is not a number >= 0); Infinity: no limit.
   */
  flushTimeoutMillis?: number;
}

const NO_COHORTS: ReadonlySet<string> = new Set();

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Set) return 'a Set (use Array.from(set))';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Installs from these are not written to the last-known-good file (they are local, or it is that file). */
const NOT_PERSISTED: ReadonlySet<string> = new Set(['bootstrap', 'file', 'data-source', 'last-known-good', 'cache']);

function bootstrapPayload(bootstrap: FlagBootstrap): string {
  if (typeof bootstrap === 'string') return bootstrap;
  return JSON.stringify(Array.isArray(bootstrap) ? bootstrap : Object.values(bootstrap));
}

/** What one start()..stop() cycle runs: its sources and its connections. */
interface Cycle {
  readonly plan: SourcePlan;
  readonly http: HttpClient;
  /** Present with evaluationProxyConfig: memberships of cohorts not held in memory. */
  readonly memberships: ProxyMemberships | undefined;
  stopped: boolean;
}

export class LocalEvaluationClient {
  private readonly config: ResolvedLocalConfig;
  private readonly logger: Logger;
  private readonly engine: Engine;
  private readonly internals: LocalClientInternals;
  private readonly holder: SnapshotHolder;
  private readonly events: ClientEvents;
  private readonly tracker: StatusTracker;
  private cycle: Cycle;
  /** Created when a cohort loader first needs it. */
  private cohortStore: CohortStore | undefined;
  /** Present with exposureConfig or assignmentConfig. */
  private readonly tracking: Tracking | undefined;
  /** Present with persistence (last-known-good flags). */
  private readonly persistence: FlagPersistence | undefined;
  private startPromise: Promise<void> | undefined;
  private flushPromise: Promise<void> | undefined;
  /** close() was called: final. */
  private closed = false;
  private warnedEmpty = false;
  private warnedNoTracking = false;
  private warnedFlagKeys = false;
  /** Present once a hook is registered: evaluateV2 checks this one field when there is none. */
  private hooks: HookRunner | undefined;
  private readonly metrics: MetricsSink;
  /** Present when config.metrics counts evaluations: evaluateV2 checks this one field otherwise. */
  private readonly countEvaluation: ((flagCount: number) => void) | undefined;
  /**
   * The flag configs in force, as the official SDK's cache: read them, or
   * change them (get, getAll, put, putAll, delete, clear) and the next
   * evaluateV2 sees the change, until a source brings new flags.
   */
  readonly cache: InMemoryFlagConfigCache;
  private readonly clientCache: ClientFlagCache;

  /**
   * @param flagConfigCache receives every flag update (write-through), as
   *   the official SDK's third argument: clear() then putAll() per install
   *   from a source, and each change made through `client.cache`.
   */
  constructor(
    private readonly apiKey: string,
    config?: LocalEvaluationConfig,
    flagConfigCache?: FlagConfigCache | null,
  ) {
    if (flagConfigCache !== undefined && flagConfigCache !== null && !isFlagConfigCache(flagConfigCache)) {
      throw new TypeError(
        'LocalEvaluationClient: the third argument must be a FlagConfigCache (get, getAll, put, putAll, delete, clear)',
      );
    }
    this.config = resolveLocalConfig(config);
    this.logger = this.config.logger;
    if (typeof apiKey !== 'string' || apiKey.length === 0) {
      this.logger.error('Experiment API key is empty: flags cannot be fetched');
    }
    this.engine = loadEngine();
    this.metrics = createMetricsSink(this.config.metrics, this.logger);
    this.countEvaluation = typeof this.config.metrics?.onEvaluation === 'function' ? this.metrics.onEvaluation : undefined;
    this.internals = internalsOf(config);
    this.events = new ClientEvents(this.logger);
    this.tracker = new StatusTracker({ onChange: (status) => this.events.emit('status', status) });
    this.holder = new SnapshotHolder({
      engine: this.engine,
      logger: this.logger,
      metrics: this.metrics,
      observer: {
        installed: (next, previous) => this.onInstalled(next, previous),
        refreshed: (from) => this.tracker.refreshed(from),
        failed: (from, error) => this.onFailed(from, error),
      },
      cohortsPerUser: this.config.evaluationProxyConfig !== undefined,
    });
    this.clientCache = new ClientFlagCache(this.holder, flagConfigCache ?? undefined, this.logger);
    this.cache = this.clientCache;
    const tracked = this.config.exposureConfig !== undefined || this.config.assignmentConfig !== undefined;
    this.tracking = tracked
      ? loadExposure().createTracking(
          this.config.exposureConfig,
          this.config.assignmentConfig,
          this.logger,
          this.internals.analyticsFactory,
          { metrics: this.metrics, proxyFromEnv: this.config.proxyFromEnv },
        )
      : undefined;
    for (const hook of this.config.hooks) this.addHook(hook);
    if (this.config.persistence)
      this.persistence = new (loadPersistence().FlagPersistence)(this.config.persistence.path, this.logger);
    if (this.config.bootstrap !== undefined) {
      // Installed at once; the cohorts it references are downloaded by start().
      this.holder.install(bootstrapPayload(this.config.bootstrap), 'bootstrap');
    }
    this.cycle = this.newCycle();
  }

  /** Sources and connections for a start()..stop() cycle; a source that has flags before start() gets them in now. */
  private newCycle(): Cycle {
    // Background connections never keep the process alive (a caller's dispatcher is used as given).
    const http = new HttpClient(
      this.config.dispatcher
        ? { dispatcher: this.config.dispatcher }
        : {
            httpAgent: this.config.httpAgent,
            unrefSockets: true,
            nodeHttp: true,
            proxyFromEnv: this.config.proxyFromEnv,
          },
    );
    const plan = planSources({
      apiKey: this.apiKey,
      config: this.config,
      internals: this.internals,
      http,
      logger: this.logger,
      cohortStore: () => (this.cohortStore ??= loadCohortStore().createCohortStore(this.internals.cohortStore)),
      metrics: this.metrics,
    });
    this.holder.useCohorts(plan.cohorts, this.cohortStore);
    this.holder.open();
    try {
      plan.primary.attach?.(this.holder);
    } catch (err) {
      // A user data source's subscribe() threw: release what this cycle opened before reporting it.
      this.releaseCycle({ plan, http, memberships: undefined });
      throw err;
    }
    const proxy = this.config.evaluationProxyConfig;
    const memberships = proxy
      ? new (loadMemberships().ProxyMemberships)({
          apiKey: this.apiKey,
          proxyUrl: proxy.proxyUrl,
          capacity: proxy.cohortCacheCapacity,
          ttlMillis: proxy.cohortCacheTtlMillis,
          http,
          logger: this.logger,
          store: this.cohortStore,
          requestTimeoutMillis: this.internals.membershipRequestTimeoutMillis,
          clock: this.internals.membershipClock,
        })
      : undefined;
    return { plan, http, memberships, stopped: false };
  }

  private onInstalled(next: Installed, previous: Installed | undefined): void {
    this.tracker.installed(next.from, next.snapshot.size);
    this.clientCache?.onInstalled(next);
    if (this.persistence && !NOT_PERSISTED.has(next.from)) {
      const store = this.cohortStore;
      this.persistence.save(next.payload, store ? store.ids().map((id) => store.info(id)) : []);
    }
    if (!this.events.hasUpdateListeners()) return;
    const diff = loadFlagDiff().diffSnapshots(previous?.snapshot, next.snapshot);
    this.emitUpdate(diff.added, diff.removed, diff.changed, next.from);
  }

  private onFailed(from: string, error: unknown): void {
    const message = errorMessage(error);
    this.tracker.failed(message);
    this.events.emit('error', Object.freeze({ source: from, error, message }));
  }

  /** New members for some cohorts: the flags that reference them (and their dependents) may match other users. */
  private onCohortsChanged(changed: ReadonlySet<string>): void {
    this.holder.reportMissingCohorts();
    const current = this.holder.current;
    if (!current?.cohorts || !this.events.hasUpdateListeners()) return;
    const keys: string[] = [];
    for (const [flagKey, ids] of current.cohorts.byFlag) {
      for (const id of ids) {
        if (changed.has(id)) {
          keys.push(flagKey);
          break;
        }
      }
    }
    if (keys.length === 0) return;
    const all = [...keys, ...loadFlagDiff().dependentsOf(current.snapshot, keys, new Set(keys))];
    this.emitUpdate([], [], all, 'cohort');
  }

  private emitUpdate(added: string[], removed: string[], changed: string[], source: string): void {
    if (added.length + removed.length + changed.length === 0) return;
    const flagKeys = [...added, ...removed, ...changed];
    this.events.emit('update', Object.freeze({ flagKeys, added, removed, changed, source }));
    const emitKey = (flagKey: string, kind: 'added' | 'removed' | 'changed'): void => {
      const name = `update:${flagKey}`;
      if (this.events.has(name)) this.events.emit(name, Object.freeze({ flagKey, kind, source }));
    };
    for (const k of added) emitKey(k, 'added');
    for (const k of removed) emitKey(k, 'removed');
    for (const k of changed) emitKey(k, 'changed');
  }

  /**
   * Listen to client events: 'update' (flags added, removed or changed),
   * 'update:<flagKey>' (one flag), 'error' (a refresh failed; never thrown,
   * with or without a listener), 'status' (client.status() changed). A
   * listener that throws is logged and ignored. docs/events.md
   */
  on<E extends LocalClientEventName>(event: E, listener: LocalClientListener<E>): this {
    this.events.on(event, listener);
    return this;
  }

  /** Remove a listener added with on() or once(). */
  off<E extends LocalClientEventName>(event: E, listener: LocalClientListener<E>): this {
    this.events.off(event, listener);
    return this;
  }

  /** Like on(), removed after its first call. */
  once<E extends LocalClientEventName>(event: E, listener: LocalClientListener<E>): this {
    this.events.once(event, listener);
    return this;
  }

  /** How fresh the flags are: one call for a readiness probe. docs/events.md */
  status(): ClientStatus {
    return this.tracker.status();
  }

  /** With redisConfig mode 'fleet': this process's role, the Redis connection state and the published version it serves. docs/fleet.md */
  fleetStatus(): FleetStatus | undefined {
    const primary = this.cycle.plan.primary as { fleetStatus?: () => FleetStatus };
    return primary.fleetStatus?.();
  }

  /**
   * Fetch flag configs (through the configured source) and the cohorts they
   * reference, then keep both fresh in the background. Resolves once flags
   * and their cohorts are loaded (a cohort that fails to download is logged,
   * not fatal, as in the official SDK); rejects on an authentication
   * failure, an unreachable server, or after startTimeoutMillis. Background
   * updates continue either way until stop(). After stop(), start() starts
   * the client again; after close() it rejects.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('client is closed (close() is final; use stop() to restart later)'));
    if (this.cycle.stopped) {
      try {
        this.cycle = this.newCycle();
      } catch (err) {
        this.logger.error(`start() failed: ${errorMessage(err)}`);
        return Promise.reject(err);
      }
    }
    if (!this.startPromise) {
      const timeout = this.config.startTimeoutMillis;
      const cycle = this.cycle;
      this.tracker.started(this.internals.staleAfterMillis ?? cycle.plan.primary.staleAfterMillis);
      const work = this.startCycle(cycle, Date.now() + timeout);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        // Ref'd on purpose: it keeps `await client.start()` alive (sockets are unref'd), and is cleared when start settles.
        timer = setTimeout(() => {
          reject(
            new Error(
              `start() timed out after ${timeout} ms (flags or cohorts not loaded yet; updates continue in the background)`,
            ),
          );
        }, timeout);
      });
      work.catch(() => undefined);
      timedOut.catch(() => undefined);
      const started = Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
      started.catch((err: unknown) => {
        if (cycle.stopped) return;
        if (!this.holder.hasFlags) this.tracker.markStartFailed();
        this.logger.error(`start() failed: ${errorMessage(err)}`);
      });
      this.startPromise = started;
    }
    return this.startPromise;
  }

  private async startCycle(cycle: Cycle, deadline: number): Promise<void> {
    const cohorts = cycle.plan.cohorts;
    try {
      await this.startSources(cycle, deadline);
      await this.holder.settled();
      // Flags installed without their cohorts (bootstrap, last-known-good): load them now.
      const current = this.holder.current;
      if (current?.cohorts && !current.cohortsAwaited && cohorts && !cycle.stopped) {
        await cohorts.loadMissing(current.cohorts.all);
        this.holder.reportMissingCohorts();
      }
    } finally {
      if (cohorts && !cycle.stopped) {
        cohorts.startRefresh(
          () => this.holder.current?.cohorts?.all ?? NO_COHORTS,
          (changed) => this.onCohortsChanged(changed),
        );
      }
    }
  }

  /**
   * The primary source's start(), or the fallback's when the primary fails
   * (not permanently) or has not delivered within fallback.afterMillis; the
   * primary keeps trying in the background either way.
   */
  private startSources(cycle: Cycle, deadline: number): Promise<void> {
    const { primary, fallback } = cycle.plan;
    const primaryStarted = primary.start(this.holder, deadline);
    if (!fallback) return primaryStarted;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err === undefined) resolve();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- start() rejects with the source's own failure, whatever it is
        else reject(err);
      };
      const useFallback = async (reason: unknown): Promise<void> => {
        if (done) return;
        if (reason !== undefined && isPermanentSourceError(reason)) return finish(reason);
        try {
          await fallback.source.start(this.holder, deadline);
        } catch {
          // No usable fallback: fail with the primary's reason, or keep waiting for it until start()'s timeout.
          if (reason !== undefined) finish(reason);
          return;
        }
        if (done || cycle.stopped) return;
        const why = reason === undefined ? `no answer within ${fallback.afterMillis} ms` : errorMessage(reason);
        const what = fallback.source.describe?.() ?? `the ${fallback.source.name} flags`;
        this.logger.warn(`flags could not be fetched at start (${why}); serving ${what}; fetching continues in the background`);
        finish();
      };
      const timer = setTimeout(() => void useFallback(undefined), fallback.afterMillis);
      timer.unref();
      primaryStarted.then(
        () => finish(),
        (err: unknown) => void useFallback(err),
      );
    });
  }

  /**
   * Stop fetching: polling, streaming, file watching, cohort refresh;
   * requests in flight are aborted; tracked events start being sent (close()
   * awaits that). Evaluation keeps working on the last flags and cohorts.
   * start() starts the client again.
   */
  stop(): void {
    if (this.cycle.stopped) return;
    this.stopCycle();
    if (this.tracking) this.flushPromise = this.tracking.flush().catch(() => undefined);
  }

  private stopCycle(): void {
    const cycle = this.cycle;
    cycle.stopped = true;
    this.startPromise = undefined;
    this.releaseCycle(cycle);
    this.tracker.close();
  }

  /**
   * Stops a cycle's sources, lookups and connections. Every part is stopped even when one throws (a user data
   * source's unsubscribe): no timer or connection may outlive it.
   */
  private releaseCycle({ plan, http, memberships }: Pick<Cycle, 'plan' | 'http' | 'memberships'>): void {
    const step = (what: string, stop: () => void): void => {
      try {
        stop();
      } catch (err) {
        this.logger.error(`stopping ${what} failed (the rest was stopped): ${errorMessage(err)}`);
      }
    };
    this.holder.close();
    step(`the ${plan.primary.name} source`, () => plan.primary.stop());
    step('the fallback source', () => plan.fallback?.source.stop());
    step('cohort refresh', () => plan.cohorts?.stop());
    step('cohort memberships', () => memberships?.stop());
    void http.close().catch(() => undefined);
  }

  /** True once close() has been called (stop() can be undone by start(); close() cannot). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * stop() for good, then wait for connections to be released and tracked
   * events to be sent (bounded by flushTimeoutMillis). start() rejects after it.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    // Undefined: the trackers' default.
    const flushTimeout = options.flushTimeoutMillis;
    this.closed = true;
    if (!this.cycle.stopped) {
      this.stopCycle();
      if (this.tracking) this.flushPromise = this.tracking.flush(flushTimeout).catch(() => undefined);
    }
    await Promise.all([
      this.cycle.http.close().catch(() => undefined),
      this.flushPromise,
      this.persistence?.flush(),
      this.clientCache.flushStore(flushTimeout),
    ]);
  }

  /**
   * Evaluate flags for a user, synchronously. `flagKeys` absent or empty: all
   * flags; otherwise those flags plus the flags they depend on. Default
   * variants are included. Returned variants are frozen and shared between
   * calls: copy one before changing it.
   */
  evaluateV2(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Variants {
    if (flagKeys !== undefined && !Array.isArray(flagKeys)) {
      const keys = this.flagKeysArray(flagKeys, 'evaluateV2');
      if (keys === null) return {};
      flagKeys = keys;
    }
    if (this.hooks !== undefined) {
      return this.hooks.run(
        { method: 'evaluateV2', user, flagKeys },
        () => this.evaluateUnhooked(user, flagKeys, options),
        (variants) => variants,
      );
    }
    return this.evaluateUnhooked(user, flagKeys, options);
  }

  /**
   * evaluateV2 with reasons: for each flag evaluateV2 would return (plus the
   * flags it visits but gives no variant: reason NO_MATCH), the same variant
   * object and why (segment, matching conditions and the values they saw,
   * bucketing and hash values, dependency, cohorts not loaded). Computed by a
   * separate native entry point; evaluateV2 pays nothing for it. Meant for
   * debugging, tooling and OpenFeature; tracks no exposure. docs/evaluation-details.md
   */
  evaluateV2Details(user: ExperimentUser, flagKeys?: string[]): EvaluationDetails {
    if (flagKeys !== undefined && !Array.isArray(flagKeys)) {
      const keys = this.flagKeysArray(flagKeys, 'evaluateV2Details');
      if (keys === null) return {};
      flagKeys = keys;
    }
    if (this.hooks !== undefined) {
      return this.hooks.run(
        { method: 'evaluateV2Details', user, flagKeys },
        () => this.detailsUnhooked(user, flagKeys),
        (details) => {
          const variants: Record<string, Variant> = {};
          for (const key of Object.keys(details)) {
            const v = details[key].variant;
            if (v !== undefined) variants[key] = v;
          }
          return variants;
        },
        (details) => details,
      );
    }
    return this.detailsUnhooked(user, flagKeys);
  }

  private detailsUnhooked(user: ExperimentUser, flagKeys?: string[]): EvaluationDetails {
    const current = this.holder.current;
    if (!current) return {};
    const index = current.cohorts;
    const store = this.cohortStore;
    const evaluated = index === undefined || !user ? user : enrichUser(user, index, this.cycle.memberships ?? store);
    const explained = loadDetails().explainSnapshot(current.snapshot, evaluated, flagKeys, (id) => store?.has(id) ?? false);
    this.countEvaluation?.(Object.keys(explained).length);
    return explained;
  }

  /** True once flags are loaded (from Amplitude, bootstrap, a file, a data source or the last-known-good file). */
  get hasFlags(): boolean {
    return this.holder.hasFlags;
  }

  /**
   * Register an evaluation hook (before/after callbacks around evaluateV2 and
   * evaluateV2Details). See docs/hooks.md.
   */
  addHook(hook: EvaluationHook): void {
    const runner = this.hooks ?? new (loadHooks().HookRunner)(this.logger);
    runner.add(hook);
    if (runner.size > 0) this.hooks = runner;
  }

  /**
   * flagKeys that is not an array, from JavaScript callers: one key as a
   * string (`evaluateV2(user, 'my-flag')`) is that key; null is all flags;
   * anything else evaluates no flag (null returned). Said once, at error
   * level (visible by default).
   */
  private flagKeysArray(flagKeys: unknown, method: string): string[] | undefined | null {
    if (flagKeys === null) return undefined;
    const asKey = typeof flagKeys === 'string';
    if (!this.warnedFlagKeys) {
      this.warnedFlagKeys = true;
      this.logger.error(
        asKey
          ? `${method}: flagKeys must be an array of flag keys; got the string ${JSON.stringify(flagKeys)}, evaluated as [${JSON.stringify(flagKeys)}] (said once)`
          : `${method}: flagKeys must be an array of flag keys; got ${describeValue(flagKeys)}, no flag evaluated (said once)`,
      );
    }
    return asKey ? [flagKeys] : null;
  }

  private evaluateUnhooked(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Variants {
    const current = this.holder.current;
    if (!current) {
      if (!this.warnedEmpty) {
        this.warnedEmpty = true;
        this.logger.error('evaluateV2 called before any flags were loaded (call and await start(), or pass bootstrap)');
      }
      return {};
    }
    const index = current.cohorts;
    const evaluated = index === undefined || !user ? user : enrichUser(user, index, this.cycle.memberships ?? this.cohortStore);
    const results = current.snapshot.evaluate(evaluated, flagKeys);
    this.countEvaluation?.(Object.keys(results).length);
    if (this.tracking !== undefined) this.tracking.onEvaluate(evaluated, results, options?.tracksExposure);
    else if (options?.tracksExposure === true && !this.warnedNoTracking) {
      this.warnedNoTracking = true;
      this.logger.warn('tracksExposure is set but no exposureConfig was given: exposures are not tracked');
    }
    return results;
  }

  /**
   * With evaluationProxyConfig: look up (and cache) the cohort memberships
   * this user needs from the proxy, for cohorts not held in memory, so that
   * the next evaluateV2 for the user is exact. Resolves when they are cached
   * or the lookup failed (logged); never rejects. Without
   * evaluationProxyConfig, or when every referenced cohort is held in
   * memory, resolves at once. evaluateV2 itself never waits: on a cache miss
   * it starts this lookup in the background and treats the user as in none
   * of the cohorts not held in memory. docs/evaluation-proxy.md
   */
  prepareUser(user: ExperimentUser): Promise<void> {
    const memberships = this.cycle.memberships;
    if (memberships === undefined) return Promise.resolve();
    return memberships.prepare(user, this.holder.current?.cohorts);
  }

  /** prepareUser(user), then evaluateV2: exact cohort targeting through the evaluation proxy on the first call. */
  async evaluateV2Async(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Promise<Variants> {
    await this.prepareUser(user);
    return this.evaluateV2(user, flagKeys, options);
  }

  /**
   * @deprecated use evaluateV2. Like the official SDK: async, and variants
   * whose metadata marks them default are left out.
   */
  async evaluate(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Promise<Variants> {
    await this.prepareUser(user);
    return filterDefaultVariants(this.evaluateV2(user, flagKeys, options));
  }

  /** Keys of the flags currently loaded. */
  flagKeys(): string[] {
    return this.holder.current?.snapshot.keys() ?? [];
  }
}
