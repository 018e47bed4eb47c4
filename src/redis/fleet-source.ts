/**
 * redisConfig mode 'fleet': the processes sharing a Redis elect one writer
 * with a lease. The writer fetches flags and cohorts from Amplitude (or
 * serverUrl) as a lone client would, installs them, and publishes each
 * snapshot atomically (fleet-publisher.ts). Every other process is a
 * reader: it checks the published version every updateCheckMillis (and is
 * woken at once by pub/sub), loads changed cohorts from Redis straight into
 * its cohort store, then submits the flags. Nothing on the evaluation path
 * waits on Redis.
 *
 * Roles: 'writer' (holds the lease), 'reader', 'direct' (Redis unreachable
 * for directFallbackMillis, or at start: fetches from Amplitude itself, as
 * without fleet mode, until Redis is back). One object is both the flag
 * source and the cohort loader, because which of them does the work
 * depends on the role.
 */
import { crypto, os } from '../util/builtins';
import type { CohortInfo, CohortStore } from '../engine/cohort-store';
import { CohortSync } from '../local/cohorts';
import { FlagPoller } from '../local/flag-poller';
import type { CohortLoader, FlagSink, FlagSource, SourceContext } from '../local/sources/types';
import type { Logger } from '../util/logger';
import type { ResolvedRedisConfig } from './config';
import { createRedisConnection, isRedisAuthError, type RedisConnection } from './connection';
import { FleetKeys, type FleetManifest } from './fleet-layout';
import { FleetPublisher } from './fleet-publisher';
import { FleetReader } from './fleet-reader';
import { Lease } from './lease';
import { errorMessage } from '../util/error-message';

export type FleetRole = 'starting' | 'writer' | 'reader' | 'direct' | 'stopped';

/** What a deployment's health check wants to know (client.fleetStatus()). */
export interface FleetStatus {
  role: FleetRole;
  /** Connection state of the Redis client ('ready', 'reconnecting', ...). */
  redis: string;
  /** Published version this process installed (0: none yet). */
  version: number;
  /** When the fleet's writer last completed a fetch from upstream (ms since epoch; 0: unknown). */
  syncedAt: number;
  writer: string;
  lastError: string | undefined;
}

const NONE: ReadonlySet<string> = new Set();

export class RedisFleetSource implements FlagSource, CohortLoader {
  readonly name = 'redis-fleet';
  readonly staleAfterMillis: number;
  private readonly cfg: ResolvedRedisConfig;
  private readonly logger: Logger;
  private readonly conn: RedisConnection;
  private readonly keys: FleetKeys;
  private readonly lease: Lease;
  private readonly publisher: FleetPublisher;
  private readonly reader: FleetReader;
  private readonly poller: FlagPoller;
  private readonly cohortSync: CohortSync | undefined;
  private readonly writerId = `${os().hostname()}:${process.pid}:${crypto().randomBytes(3).toString('hex')}`;
  private sink: FlagSink | undefined;
  private role: FleetRole = 'starting';
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private lastRenew = 0;
  private redisOkAt = Date.now();
  private installedVersion = 0;
  /** `${version}@${publishedAt}` of the installed snapshot (a version number alone repeats if Redis lost its data). */
  private installedId = '';
  private syncedAt = 0;
  private writer = '';
  private lastError: string | undefined;
  private manifest: FleetManifest | undefined;
  private referencedIds: ReadonlySet<string> = NONE;
  private lastPayload: Buffer | undefined;
  private readonly pendingPuts = new Set<Promise<void>>();
  private firstDelivered: (() => void) | undefined;
  /** Rejects start() with a failure retrying will not fix (a rejected deployment key) seen by the first fetch. */
  private startFailed: ((error: unknown) => void) | undefined;
  private startDeadline = 0;
  private warnedStale = false;
  private stopped = false;

  constructor(private readonly ctx: SourceContext) {
    const redis = ctx.config.redisConfig;
    if (!redis) throw new Error('RedisFleetSource needs redisConfig');
    this.cfg = redis;
    // Stale when nothing was installed or confirmed for three flag intervals plus a writer handover.
    this.staleAfterMillis = 3 * ctx.config.flagConfigPollingIntervalMillis + redis.leaseMillis;
    this.logger = ctx.logger;
    this.conn = createRedisConnection(redis, ctx.logger, 'amplitude-experiment-fleet');
    this.keys = new FleetKeys(redis.prefix, ctx.apiKey);
    this.lease = new Lease(this.conn.client, this.keys.lease, redis.leaseMillis);
    const interval = ctx.config.flagConfigPollingIntervalMillis;
    this.publisher = new FleetPublisher(this.conn.client, this.keys, this.lease, this.writerId, {
      orphanTtlMillis: Math.max(60_000, 4 * interval),
      graceMillis: Math.max(30_000, 2 * interval),
    });
    this.reader = new FleetReader(this.conn.client, this.keys);
    // Test-only internals shorten the writer's polling as they do the poll source's (the 1 s floor, backoffs).
    const polling = ctx.internals.flagPolling;
    this.poller = new FlagPoller({
      apiKey: ctx.apiKey,
      serverUrl: ctx.config.serverUrl,
      pollingIntervalMillis: polling?.intervalMillis ?? interval,
      failureBackoff: polling?.failureBackoff,
      initialBackoff: polling?.initialBackoff,
      requestTimeoutMillis: ctx.config.flagConfigPollerRequestTimeoutMillis,
      http: ctx.http,
      logger: ctx.logger,
      onPayload: (body) => this.onUpstreamPayload(body),
    });
    const sync = ctx.config.cohortSyncConfig;
    if (sync) {
      this.cohortSync = new CohortSync({
        apiKey: sync.apiKey,
        secretKey: sync.secretKey,
        cohortServerUrl: sync.cohortServerUrl,
        maxCohortSize: sync.maxCohortSize,
        pollingIntervalMillis: ctx.internals.cohortPollingIntervalMillis ?? sync.cohortPollingIntervalMillis,
        http: ctx.http,
        logger: ctx.logger,
        store: ctx.cohortStore(),
        retryBackoff: ctx.internals.cohortRetryBackoff,
        missingRetryBackoff: ctx.internals.cohortMissingRetryBackoff,
        requestTimeoutMillis: ctx.internals.cohortRequestTimeoutMillis,
        onLoaded: (id, body, info) => this.onCohortDownloaded(id, body, info),
      });
    }
  }

  // ------------------------------------------------------------ FlagSource

  async start(sink: FlagSink, deadline: number): Promise<void> {
    this.sink = sink;
    this.startDeadline = deadline;
    const now = Date.now();
    const budget = Math.max(0, deadline - now);
    const fallbackAt = this.cfg.directFallbackMillis > 0 ? now + Math.min(this.cfg.directFallbackMillis, budget / 2) : deadline;
    try {
      await this.conn.ready(fallbackAt);
    } catch (err) {
      // Stopped or closed while connecting: start() fails with that, as it does for a fetch cut short by stop().
      if (this.stopped) throw err;
      return this.startDirect(err, deadline, isRedisAuthError(err) ? 'Redis rejected the credentials' : 'Redis is unreachable');
    }
    this.redisOkAt = Date.now();
    if (this.cfg.pubsub) this.unsubscribe = this.reader.subscribe(this.conn, () => this.wake());
    const first = new Promise<void>((resolve, reject) => {
      this.firstDelivered = resolve;
      this.startFailed = reject;
    });
    first.catch(() => undefined);
    this.schedule(0);
    const timedOut = await Promise.race([
      first.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), Math.max(0, fallbackAt - Date.now())).unref()),
    ]);
    if (!timedOut || this.stopped) return;
    if (this.role === 'writer' || this.role === 'direct') return first; // already fetching: the poller's deadline applies
    return this.startDirect(new Error('no snapshot was published in Redis yet'), deadline, 'the fleet has no snapshot');
  }

  /** Start without Redis: fetch from Amplitude directly; the tick loop switches back once Redis answers. */
  private async startDirect(err: unknown, deadline: number, what: string): Promise<void> {
    if (this.stopped) return;
    const why = errorMessage(err);
    this.lastError = why;
    if (this.cfg.directFallbackMillis === 0) throw new Error(`${what} (${why}) and redisConfig.directFallbackMillis is 0`);
    this.logger.warn(`fleet mode: ${what} at start (${why}); fetching flags from Amplitude directly until it is back`);
    this.enterDirect(false);
    this.schedule(this.cfg.updateCheckMillis);
    await this.poller.loadInitial(deadline);
    this.poller.startPolling();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const wasWriter = this.role === 'writer';
    this.role = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.poller.stop();
    this.cohortSync?.stop();
    this.firstDelivered?.();
    // Hand the lease back so another process takes over now, not when it expires.
    const release = wasWriter ? this.lease.release() : Promise.resolve();
    void release.finally(() => this.conn.close());
  }

  /** Role, Redis connection state and the published version this process serves (client.fleetStatus()). */
  fleetStatus(): FleetStatus {
    return {
      role: this.role,
      redis: this.conn.client.status,
      version: this.installedVersion,
      syncedAt: this.syncedAt,
      writer: this.writer,
      lastError: this.lastError ?? this.conn.lastError?.message,
    };
  }

  // ------------------------------------------------------------ roles

  private get fetching(): boolean {
    return this.role === 'writer' || this.role === 'direct';
  }

  private becomeWriter(): void {
    const from = this.role;
    this.role = 'writer';
    this.lastRenew = Date.now();
    this.logger.info(`fleet mode: this process is the writer (${this.writerId})`);
    if (from === 'direct') {
      // Already fetching: publish what we have, the schedule goes on.
      if (this.lastPayload) void this.publishSnapshot(this.lastPayload);
      return;
    }
    if (from === 'starting') {
      // The first fetch of the fleet: retried until start()'s deadline; a rejected key fails start() at once.
      this.poller.loadInitial(this.startDeadline).then(
        () => this.role === 'writer' && this.poller.startPolling(),
        (err: unknown) => {
          this.startFailed?.(err);
          if (!this.stopped && this.role === 'writer') this.poller.startPolling();
        },
      );
      return;
    }
    this.poller.startPolling();
    this.poller.pollNow();
  }

  private becomeReader(why: string): void {
    if (this.role === 'reader') return;
    if (this.role === 'writer') this.logger.warn(`fleet mode: ${why}; this process is a reader now`);
    this.role = 'reader';
    this.poller.pausePolling();
  }

  private enterDirect(poll: boolean): void {
    if (this.role === 'direct') return;
    this.role = 'direct';
    if (poll) {
      this.logger.warn(
        `fleet mode: Redis unreachable for ${this.cfg.directFallbackMillis} ms; fetching flags from Amplitude directly until it is back`,
      );
      this.poller.startPolling();
      this.poller.pollNow();
    }
  }

  // ------------------------------------------------------------ the loop

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runTick().finally(() => this.schedule(this.cfg.updateCheckMillis));
    }, delay);
    this.timer.unref();
  }

  /** Pub/sub said a version was published: check now (or right after the check in progress). */
  private wake(): void {
    if (this.ticking) this.again = true;
    else void this.runTick();
  }

  private runTick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      do {
        this.again = false;
        await this.tick();
      } while (this.again && !this.stopped);
    })().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.role === 'writer') {
        if (Date.now() - this.lastRenew >= this.cfg.leaseMillis / 3) {
          if (await this.lease.acquire()) this.lastRenew = Date.now();
          else this.becomeReader('the writer lease was taken over');
        }
      } else if (await this.lease.acquire()) {
        this.becomeWriter();
      } else if (this.role !== 'reader') {
        this.becomeReader('another process holds the writer lease');
      }
      this.redisOkAt = Date.now();
      if (this.role === 'reader') await this.readPublished();
      this.lastError = undefined;
    } catch (err) {
      this.onRedisError(err);
    }
  }

  private onRedisError(err: unknown): void {
    if (this.stopped) return;
    this.lastError = errorMessage(err);
    this.sink?.reportError(this.name, err);
    if (this.role === 'writer' && !this.lease.held) {
      // We cannot renew, so another process may take over: stop publishing, keep fetching for ourselves.
      this.role = 'direct';
      this.logger.warn(`fleet mode: lost contact with Redis (${this.lastError}); no longer the writer, fetching directly`);
      return;
    }
    if (
      this.role === 'reader' &&
      this.cfg.directFallbackMillis > 0 &&
      Date.now() - this.redisOkAt >= this.cfg.directFallbackMillis
    ) {
      this.enterDirect(true);
    }
  }

  /** Reader: install the published snapshot when its version moved. Cohorts first, then the flags that use them. */
  private async readPublished(): Promise<void> {
    const v = await this.reader.version();
    if (!v) return;
    const synced = v.syncedAt !== this.syncedAt;
    this.syncedAt = v.syncedAt;
    this.checkStale();
    if (`${v.version}@${v.publishedAt}` === this.installedId) {
      // The writer fetched again and nothing changed: our flags are current.
      if (synced && this.installedVersion > 0) this.sink?.refreshed(this.name);
      return;
    }
    const meta = await this.reader.meta();
    if (!meta) return;
    const store = this.ctx.config.cohortSyncConfig ? this.ctx.cohortStore() : undefined;
    for (const [id, lastModified] of Object.entries(meta.manifest.cohorts)) {
      if (!store || store.info(id)?.lastModified === lastModified) continue;
      const body = await this.reader.cohort(id, lastModified);
      if (!body) return; // replaced while we read: the next check reads the newer version
      await store.load(body, id);
    }
    const flags = await this.reader.flags(meta.manifest.flags);
    if (!flags) return;
    this.manifest = meta.manifest;
    this.writer = meta.writer;
    await this.sink?.submit(flags, this.name);
    this.installedVersion = meta.version;
    this.installedId = `${meta.version}@${meta.publishedAt}`;
    this.firstDelivered?.();
  }

  private checkStale(): void {
    const limit = this.staleAfterMillis;
    const stale = this.syncedAt > 0 && Date.now() - this.syncedAt > limit;
    if (stale && !this.warnedStale) {
      this.warnedStale = true;
      this.logger.warn(
        `fleet mode: the published flags were last synced ${new Date(this.syncedAt).toISOString()}; is a writer running?`,
      );
    } else if (!stale) this.warnedStale = false;
  }

  // ------------------------------------------------------------ writer

  private async onUpstreamPayload(body: Buffer): Promise<boolean> {
    const sink = this.sink;
    if (!sink || this.stopped) return false;
    const ok = await sink.submit(body, 'poll');
    if (ok) {
      this.lastPayload = body;
      this.firstDelivered?.();
      if (this.role === 'writer') await this.publishSnapshot(body);
    }
    return ok;
  }

  private onCohortDownloaded(cohortId: string, body: Buffer, info: CohortInfo): void {
    if (this.role !== 'writer') return;
    const put = this.publisher.putCohort(cohortId, info.lastModified, body).catch((err: unknown) => this.onRedisError(err));
    this.pendingPuts.add(put);
    void put.finally(() => this.pendingPuts.delete(put));
  }

  /** Store what the snapshot needs, then flip. Never rejects. */
  private async publishSnapshot(payload: Buffer): Promise<void> {
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        await Promise.all(this.pendingPuts);
        if (this.role !== 'writer' || this.stopped) return;
        const store = this.cohortSync?.store;
        const cohorts: Record<string, number> = {};
        for (const id of this.referencedIds) {
          const info = store?.info(id);
          if (info) cohorts[id] = info.lastModified;
        }
        const sha = await this.publisher.putFlags(payload);
        const result = await this.publisher.publish({ flags: sha, cohorts }, Date.now());
        this.redisOkAt = Date.now();
        if (result.kind === 'published' || result.kind === 'unchanged') {
          this.installedVersion = result.version;
          this.syncedAt = Date.now();
          this.writer = this.writerId;
          this.manifest = { flags: sha, cohorts };
          if (result.kind === 'published') this.logger.debug(`fleet mode: published version ${result.version}`);
          return;
        }
        if (result.kind === 'lease-lost') {
          this.becomeReader('the writer lease was lost while publishing (nothing was published)');
          return;
        }
        // A cohort version we hold is not in Redis (expired, or loaded while we were a reader): download it again.
        const missing = Object.keys(cohorts).filter((id) => result.key === this.keys.cohort(id, cohorts[id]));
        // eslint-disable-next-line @typescript-eslint/await-thenable -- download() returns a Promise; undefined entries (no cohort sync) are fine in Promise.all
        await Promise.all(missing.map((id) => this.cohortSync?.download(id, undefined)));
      }
    } catch (err) {
      this.onRedisError(err);
    }
  }

  // ------------------------------------------------------------ CohortLoader

  async loadMissing(ids: ReadonlySet<string>): Promise<void> {
    if (this.fetching || this.role === 'starting') {
      await this.cohortSync?.loadMissing(ids);
      return;
    }
    // Reader: the published manifest says which version of each cohort to load.
    const store = this.ctx.cohortStore();
    const manifest = this.manifest;
    if (!manifest) return;
    await Promise.all(
      [...ids]
        .filter((id) => !store.has(id) && manifest.cohorts[id] !== undefined)
        .map(async (id) => {
          try {
            const body = await this.reader.cohort(id, manifest.cohorts[id]);
            if (body) await store.load(body, id);
          } catch (err) {
            this.logger.warn(`fleet mode: cohort ${id} could not be read from Redis: ${errorMessage(err)}`);
          }
        }),
    );
  }

  installed(ids: ReadonlySet<string>): void {
    this.referencedIds = ids;
    if (this.cohortSync) {
      this.cohortSync.removeUnused(ids);
      if (this.fetching) this.cohortSync.scheduleMissingRetry();
    } else if (ids.size > 0) {
      const store: CohortStore = this.ctx.cohortStore();
      for (const id of store.ids()) if (!ids.has(id)) store.remove(id);
    }
  }

  startRefresh(referenced: () => ReadonlySet<string>, onChange: (changed: ReadonlySet<string>) => void): void {
    // Only a fetching process refreshes from Amplitude; a reader gets new cohort versions with the manifest.
    this.cohortSync?.startPolling(
      () => (this.fetching ? referenced() : NONE),
      () => {
        onChange(referenced());
        if (this.role === 'writer' && this.lastPayload) void this.publishSnapshot(this.lastPayload);
      },
    );
  }
}
