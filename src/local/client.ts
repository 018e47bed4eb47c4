/**
 * Local evaluation: flag configs are fetched once and refreshed in the
 * background; evaluateV2 runs synchronously in the native engine.
 */
import { loadEngine, type Engine, type FlagSnapshot, FlagPayloadError } from '../engine';
import { type CohortStore, createCohortStore } from '../engine/cohort-store';
import { type FlagBootstrap, type LocalEvaluationConfig, type ResolvedLocalConfig, resolveLocalConfig } from '../config/local';
import type { ExperimentUser, Variants } from '../types';
import { HttpClient } from '../util/http';
import type { Logger } from '../util/logger';
import { buildCohortIndex, type CohortIndex } from './cohort-utils';
import { CohortSync, enrichUser } from './cohorts';
import { createTracking, DEFAULT_FLUSH_TIMEOUT_MILLIS, type Tracking } from './exposure';
import { FlagPoller, isPermanentFailure } from './flag-poller';
import { FileFlagSource } from './file-source';
import { FlagPersistence } from './persistence';
import { type EvaluationHook, HookRunner } from './hooks';
import { type EvaluationDetails, explainSnapshot } from './details';
import { internalsOf } from './internals';
import { StreamingUpdater } from './stream';
import { unrefConnector } from './unref-connector';
import { createMetricsSink, type MetricsSink } from '../metrics';

export interface EvaluateOptions {
  /** Track an exposure event for each evaluated variant (needs exposureConfig). */
  tracksExposure?: boolean;
}

export interface CloseOptions {
  /** How long close() waits for tracked events to be sent. Default 10000. */
  flushTimeoutMillis?: number;
}

const NO_COHORTS: ReadonlySet<string> = new Set();

function bootstrapPayload(bootstrap: FlagBootstrap): string {
  if (typeof bootstrap === 'string') return bootstrap;
  return JSON.stringify(Array.isArray(bootstrap) ? bootstrap : Object.values(bootstrap));
}

export class LocalEvaluationClient {
  private readonly config: ResolvedLocalConfig;
  private readonly logger: Logger;
  private readonly engine: Engine;
  private readonly http: HttpClient;
  private readonly poller: FlagPoller;
  private snapshot: FlagSnapshot | undefined;
  /** Cohort references of `snapshot`; undefined when it has none (the common case: no per-call work). */
  private cohortIndex: CohortIndex | undefined;
  /** Present with cohortSyncConfig. */
  private readonly cohortStore: CohortStore | undefined;
  private readonly cohortSync: CohortSync | undefined;
  /** Present with exposureConfig or assignmentConfig. */
  private readonly tracking: Tracking | undefined;
  /** Present with streamUpdates. */
  private readonly streaming: StreamingUpdater | undefined;
  /** Flag payloads are installed one after the other (cohorts first, then the snapshot swap). */
  private updateChain: Promise<void> = Promise.resolve();
  /** Submission number of the last payload handed to submitFlagPayload. */
  private submitted = 0;
  /** Payloads submitted up to this number are dropped (a newer source won). */
  private staleThrough = 0;
  private startPromise: Promise<void> | undefined;
  /** The bootstrap snapshot, until a fetched one replaces it. */
  private bootstrapSnapshot: FlagSnapshot | undefined;
  private flushPromise: Promise<void> | undefined;
  private closed = false;
  private readonly reported = new Set<string>();
  private readonly reportedCohorts = new Set<string>();
  private warnedEmpty = false;
  private warnedNoCohortSync = false;
  private warnedNoTracking = false;
  /** Present once a hook is registered: evaluateV2 checks this one field when there is none. */
  private hooks: HookRunner | undefined;
  /** Present with flagsFile. */
  private readonly fileSource: FileFlagSource | undefined;
  private unsubscribeDataSource: (() => void) | undefined;
  /** Present with persistence (last-known-good flags). */
  private readonly persistence: FlagPersistence | undefined;
  private readonly metrics: MetricsSink;
  /** Present when config.metrics counts evaluations: evaluateV2 checks this one field otherwise. */
  private readonly countEvaluation: ((flagCount: number) => void) | undefined;

  constructor(
    private readonly apiKey: string,
    config?: LocalEvaluationConfig,
  ) {
    this.config = resolveLocalConfig(config);
    this.logger = this.config.logger;
    if (typeof apiKey !== 'string' || apiKey.length === 0) {
      this.logger.error('Experiment API key is empty: flags cannot be fetched');
    }
    this.engine = loadEngine();
    this.metrics = createMetricsSink(this.config.metrics, this.logger);
    this.countEvaluation = typeof this.config.metrics?.onEvaluation === 'function' ? this.metrics.onEvaluation : undefined;
    // Background connections never keep the process alive (a caller's dispatcher is used as given).
    this.http = new HttpClient(
      this.config.dispatcher ? { dispatcher: this.config.dispatcher } : { connect: unrefConnector(), proxyFromEnv: this.config.proxyFromEnv },
    );
    const internals = internalsOf(config);
    this.poller = new FlagPoller({
      apiKey,
      serverUrl: this.config.serverUrl,
      pollingIntervalMillis: this.config.flagConfigPollingIntervalMillis,
      requestTimeoutMillis: this.config.flagConfigPollerRequestTimeoutMillis,
      http: this.http,
      logger: this.logger,
      onPayload: (body) => this.submitFlagPayload(body, 'server'),
      metrics: this.metrics,
    });
    if (this.config.streamUpdates) {
      this.streaming = new StreamingUpdater({
        apiKey,
        streamServerUrl: this.config.streamServerUrl,
        connTimeoutMillis: this.config.streamFlagConnTimeoutMillis,
        http: this.http,
        logger: this.logger,
        poller: this.poller,
        onPayload: (payload) => this.submitFlagPayload(payload, 'stream'),
        timings: internals.stream,
        metrics: this.metrics,
      });
    }
    const sync = this.config.cohortSyncConfig;
    if (sync) {
      this.cohortStore = createCohortStore(internals.cohortStore);
      this.cohortSync = new CohortSync({
        apiKey: sync.apiKey,
        secretKey: sync.secretKey,
        cohortServerUrl: sync.cohortServerUrl,
        maxCohortSize: sync.maxCohortSize,
        pollingIntervalMillis: internals.cohortPollingIntervalMillis ?? sync.cohortPollingIntervalMillis,
        http: this.http,
        logger: this.logger,
        store: this.cohortStore,
        retryBackoff: internals.cohortRetryBackoff,
        missingRetryBackoff: internals.cohortMissingRetryBackoff,
        requestTimeoutMillis: internals.cohortRequestTimeoutMillis,
        metrics: this.metrics,
      });
    }
    this.tracking = createTracking(
      this.config.exposureConfig,
      this.config.assignmentConfig,
      this.logger,
      internals.analyticsFactory,
      { metrics: this.metrics, proxyFromEnv: this.config.proxyFromEnv },
    );
    for (const hook of this.config.hooks) this.addHook(hook);
    if (this.config.persistence) this.persistence = new FlagPersistence(this.config.persistence.path, this.logger);
    if (this.config.flagsFile !== undefined) {
      this.fileSource = new FileFlagSource({
        path: this.config.flagsFile,
        pollIntervalMillis: this.config.flagsFilePollIntervalMillis,
        logger: this.logger,
        onPayload: (payload) => this.submitFlagPayload(payload, 'file'),
      });
    }
    if (this.config.bootstrap !== undefined) {
      // Installed at once; the cohorts it references are downloaded by start().
      const arrived = performance.now();
      const next = this.parseFlagPayload(bootstrapPayload(this.config.bootstrap), 'bootstrap');
      if (next) {
        this.bootstrapSnapshot = next;
        this.installSnapshot(next, buildCohortIndex(next), 'bootstrap', arrived);
      }
    }
    const dataSource = this.config.dataSource;
    if (dataSource) this.unsubscribeDataSource = dataSource.subscribe((payload) => this.installFromDataSource(payload));
  }

  /**
   * Parse a flag payload into a snapshot. On a payload that is unusable as a
   * whole, log and return undefined (the previous snapshot stays). Flags that
   * fail validation are logged once each and left out; the others are served.
   */
  private parseFlagPayload(payload: string | Uint8Array, source: string): FlagSnapshot | undefined {
    let next: FlagSnapshot;
    try {
      next = this.engine.load(payload);
    } catch (err) {
      this.reportUnusablePayload(err, source);
      return undefined;
    }
    return this.acceptParsed(next, source);
  }

  /** The same, parsed off the main thread when the engine can. */
  private async parseFlagPayloadAsync(payload: string | Uint8Array, source: string): Promise<FlagSnapshot | undefined> {
    if (this.engine.loadAsync === undefined) return this.parseFlagPayload(payload, source);
    let next: FlagSnapshot;
    try {
      next = await this.engine.loadAsync(payload);
    } catch (err) {
      this.reportUnusablePayload(err, source);
      return undefined;
    }
    return this.acceptParsed(next, source);
  }

  private reportUnusablePayload(err: unknown, source: string): void {
    const why = err instanceof FlagPayloadError ? err.message : `unexpected error: ${(err as Error).message}`;
    this.logger.error(`flag configs from ${source} were not applied (${why}); keeping the previous flags`);
  }

  private acceptParsed(next: FlagSnapshot, source: string): FlagSnapshot {
    for (const r of next.rejected) {
      const line = `flag ${JSON.stringify(r.flagKey)} left out: ${r.reason}`;
      if (!this.reported.has(line)) {
        this.reported.add(line);
        this.logger.error(line);
      }
    }
    this.logger.debug(`loaded ${next.size} flags from ${source}`);
    return next;
  }

  /**
   * Parse a payload (off the main thread with the native engine) and install
   * it once the cohorts it references are loaded (or failed for good this
   * round), after any payload submitted before it. Resolves false when the
   * payload was unusable. A payload superseded by a newer usable one while it
   * parsed or its cohorts loaded is dropped.
   */
  private submitFlagPayload(payload: string | Uint8Array, source: string): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const ticket = ++this.submitted;
    const arrived = performance.now();
    const parsed = this.parseFlagPayloadAsync(payload, source);
    // Parses may finish out of order; installs stay in submission order.
    const run = this.updateChain.then(async () => {
      const next = await parsed;
      if (!next) return false;
      if (this.closed || ticket <= this.staleThrough) return true;
      const index = buildCohortIndex(next);
      if (index && this.cohortSync) await this.cohortSync.loadMissing(index.all);
      if (this.closed || ticket <= this.staleThrough) return true;
      this.installSnapshot(next, index, source, arrived);
      if (this.persistence && (source === 'server' || source === 'stream')) {
        this.persistence.save(payload, this.cohortStore ? this.cohortStore.ids().map((id) => this.cohortStore?.info(id)) : []);
      }
      return true;
    });
    this.updateChain = run.then(
      () => undefined,
      (err: unknown) => {
        this.logger.error(`flag update failed: ${(err as Error)?.message ?? String(err)}`);
      },
    );
    return run.catch(() => false);
  }

  private installSnapshot(next: FlagSnapshot, index: CohortIndex | undefined, source: string, arrived: number): void {
    this.snapshot = next;
    this.cohortIndex = index;
    this.metrics.onSnapshotInstall(performance.now() - arrived, next.size, source);
    if (index && !this.cohortSync && !this.warnedNoCohortSync) {
      this.warnedNoCohortSync = true;
      this.logger.error('Cohorts found in flag configs but no cohort download configured (set cohortSyncConfig)');
    }
    if (this.cohortSync) {
      this.cohortSync.removeUnused(index?.all ?? NO_COHORTS);
      this.cohortSync.scheduleMissingRetry();
    }
    this.reportMissingCohorts();
  }

  /** Log each referenced cohort that is not loaded, once per cohort (not per evaluation). */
  private reportMissingCohorts(): void {
    const index = this.cohortIndex;
    if (!index || !this.cohortSync) return;
    const store = this.cohortStore;
    for (const [flagKey, ids] of index.byFlag) {
      const missing: string[] = [];
      for (const id of ids) {
        if (!store?.has(id) && !this.reportedCohorts.has(id)) {
          this.reportedCohorts.add(id);
          missing.push(id);
        }
      }
      if (missing.length > 0) {
        this.logger.error(`Flag ${flagKey} has cohort ids ${missing.join(',')} unavailable, evaluation may be incorrect`);
      }
    }
  }

  /**
   * Fetch flag configs (stream or poll) and the cohorts they reference, then
   * keep both fresh in the background. Resolves once flags and their cohorts
   * are loaded (a cohort that fails to download is logged, not fatal, as in
   * the official SDK); rejects on an authentication failure or after
   * startTimeoutMillis. Background updates continue either way until stop().
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('client is stopped'));
    if (!this.startPromise) {
      const timeout = this.config.startTimeoutMillis;
      const deadline = Date.now() + timeout;
      const work = this.startWork(deadline);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        // Ref'd on purpose: it keeps `await client.start()` alive (sockets are unref'd), and is cleared when start settles.
        timer = setTimeout(() => {
          reject(new Error(`start() timed out after ${timeout} ms (flags or cohorts not loaded yet; updates continue in the background)`));
        }, timeout);
      });
      work.catch(() => undefined);
      timedOut.catch(() => undefined);
      this.startPromise = Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
      if (this.persistence) this.startPromise = this.withLastKnownGood(this.startPromise, this.persistence);
    }
    return this.startPromise;
  }

  private async startWork(deadline: number): Promise<void> {
    try {
      if (this.fileSource) {
        await this.fileSource.start();
      } else if (this.config.dataSource) {
        // Flags come from the data source, installed as it pushes them.
      } else if (this.streaming) {
        await this.streaming.start(deadline);
      } else {
        try {
          await this.poller.loadInitial(deadline);
        } finally {
          if (!this.closed) this.poller.startPolling();
        }
      }
      await this.updateChain;
      // Still on bootstrap flags (no fetched payload installed): their cohorts were never downloaded.
      const index = this.cohortIndex;
      if (index && this.cohortSync && !this.closed && this.snapshot === this.bootstrapSnapshot) {
        await this.cohortSync.loadMissing(index.all);
        this.reportMissingCohorts();
      }
    } finally {
      if (this.cohortSync && !this.closed) {
        this.cohortSync.startPolling(
          () => this.cohortIndex?.all ?? NO_COHORTS,
          () => this.reportMissingCohorts(),
        );
        this.cohortSync.scheduleMissingRetry();
      }
    }
  }

  /**
   * Stop polling, streaming and cohort refresh; abort requests in flight;
   * start sending tracked events (close() awaits that). Evaluation keeps
   * working on the last flags and cohorts.
   */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopLocalSources();
    this.streaming?.stop();
    this.poller.stop();
    this.cohortSync?.stop();
    void this.http.close().catch(() => undefined);
    if (this.tracking) this.flushPromise = this.tracking.flush(DEFAULT_FLUSH_TIMEOUT_MILLIS).catch(() => undefined);
  }

  /** stop(), then wait for connections to be released and tracked events to be sent (bounded by flushTimeoutMillis). */
  async close(options: CloseOptions = {}): Promise<void> {
    const wasClosed = this.closed;
    const flushTimeout = options.flushTimeoutMillis ?? DEFAULT_FLUSH_TIMEOUT_MILLIS;
    if (!wasClosed) {
      this.closed = true;
      this.stopLocalSources();
      this.streaming?.stop();
      this.poller.stop();
      this.cohortSync?.stop();
      if (this.tracking) this.flushPromise = this.tracking.flush(flushTimeout).catch(() => undefined);
    }
    await Promise.all([this.http.close().catch(() => undefined), this.flushPromise, this.persistence?.flush()]);
  }

  /**
   * Evaluate flags for a user, synchronously. `flagKeys` absent or empty: all
   * flags; otherwise those flags plus the flags they depend on. Default
   * variants are included. Returned variants are frozen and shared between
   * calls: copy one before changing it.
   */
  evaluateV2(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Variants {
    if (this.hooks !== undefined) {
      return this.hooks.run(
        { method: 'evaluateV2', user, flagKeys },
        () => this.evaluateUnhooked(user, flagKeys, options),
        (variants) => variants,
      );
    }
    return this.evaluateUnhooked(user, flagKeys, options);
  }

  /** Flags pushed by config.dataSource (TestData): installed at once, so the next evaluation sees them. */
  private installFromDataSource(payload: string): void {
    if (this.closed) return;
    const arrived = performance.now();
    const next = this.parseFlagPayload(payload, 'data source');
    if (!next) return;
    this.staleThrough = this.submitted; // a fetched payload still parsing or loading cohorts must not replace this one
    this.installSnapshot(next, buildCohortIndex(next), 'data source', arrived);
  }

  private stopLocalSources(): void {
    this.fileSource?.stop();
    this.unsubscribeDataSource?.();
    this.unsubscribeDataSource = undefined;
  }

  /**
   * start() with last-known-good: when Amplitude cannot be reached (errors,
   * or no answer within persistence.startFallbackMillis), install the
   * persisted flags and resolve with a logged warning; fetching continues in
   * the background. A rejected key (401, 403, 404) still rejects.
   */
  private withLastKnownGood(started: Promise<void>, persistence: FlagPersistence): Promise<void> {
    const wait = Math.min(this.config.persistence?.startFallbackMillis ?? 5000, this.config.startTimeoutMillis);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const fallback = async (reason: unknown): Promise<void> => {
        if (done) return;
        if (reason !== undefined && isPermanentFailure(reason)) return finish(reason);
        const saved = await persistence.load();
        if (done) return;
        if (!saved) {
          if (reason !== undefined) finish(reason);
          return; // no file: keep waiting for the server until start()'s own timeout
        }
        if (this.snapshot === undefined || this.snapshot === this.bootstrapSnapshot) {
          const arrived = performance.now();
          const next = this.parseFlagPayload(JSON.stringify(saved.flags), 'last-known-good file');
          if (!next) {
            if (reason !== undefined) finish(reason);
            return;
          }
          this.installSnapshot(next, buildCohortIndex(next), 'last-known-good file', arrived);
        }
        const why = reason === undefined ? `no answer within ${wait} ms` : (reason as Error)?.message ?? String(reason);
        this.logger.warn(
          `flags could not be fetched at start (${why}); serving the last-known-good flags saved at ${saved.savedAt} ` +
            `from ${persistence.file}; fetching continues in the background`,
        );
        finish();
      };
      timer = setTimeout(() => void fallback(undefined), wait);
      started.then(
        () => finish(),
        (err: unknown) => void fallback(err),
      );
    });
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
    if (this.hooks !== undefined) {
      return this.hooks.run(
        { method: 'evaluateV2Details', user, flagKeys },
        () => this.detailsUnhooked(user, flagKeys),
        (details) => {
          const variants: Variants = {};
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
    const snapshot = this.snapshot;
    if (!snapshot) return {};
    const index = this.cohortIndex;
    const evaluated = index === undefined || !user ? user : enrichUser(user, index, this.cohortStore);
    const store = this.cohortStore;
    const details = explainSnapshot(snapshot, evaluated, flagKeys, (id) => store?.has(id) ?? false);
    this.countEvaluation?.(Object.keys(details).length);
    return details;
  }

  /** True once flags are loaded (from Amplitude, bootstrap, a file, a data source or the last-known-good file). */
  get hasFlags(): boolean {
    return this.snapshot !== undefined;
  }

  /**
   * Register an evaluation hook (before/after callbacks around evaluateV2 and
   * evaluateV2Details). See docs/hooks.md.
   */
  addHook(hook: EvaluationHook): void {
    const runner = this.hooks ?? new HookRunner(this.logger);
    runner.add(hook);
    if (runner.size > 0) this.hooks = runner;
  }

  private evaluateUnhooked(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Variants {
    const snapshot = this.snapshot;
    if (!snapshot) {
      if (!this.warnedEmpty) {
        this.warnedEmpty = true;
        this.logger.warn('evaluateV2 called before any flags were loaded (call and await start(), or pass bootstrap)');
      }
      return {};
    }
    const index = this.cohortIndex;
    const evaluated = index === undefined || !user ? user : enrichUser(user, index, this.cohortStore);
    const results = snapshot.evaluate(evaluated, flagKeys);
    this.countEvaluation?.(Object.keys(results).length);
    if (this.tracking !== undefined) this.tracking.onEvaluate(evaluated, results, options?.tracksExposure);
    else if (options?.tracksExposure === true && !this.warnedNoTracking) {
      this.warnedNoTracking = true;
      this.logger.warn('tracksExposure is set but no exposureConfig was given: exposures are not tracked');
    }
    return results;
  }

  /**
   * @deprecated use evaluateV2. Like the official SDK: async, and variants
   * whose metadata marks them default are left out.
   */
  async evaluate(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Promise<Variants> {
    const all = this.evaluateV2(user, flagKeys, options);
    const out: Variants = {};
    for (const key of Object.keys(all)) {
      if (!all[key].metadata?.default) out[key] = all[key];
    }
    return out;
  }

  /** Keys of the flags currently loaded. */
  flagKeys(): string[] {
    return this.snapshot?.keys() ?? [];
  }

  /** The deployment key this client fetches with (for diagnostics; never logged). */
  protected get deploymentKey(): string {
    return this.apiKey;
  }
}
