/**
 * The one way flags reach a local client. Every source (bootstrap, polling,
 * streaming with its poll fallback, a flags file, a data source such as
 * TestData, last-known-good, Redis, an evaluation proxy) hands payloads to a
 * FlagSink; the client's one snapshot holder is that sink: it parses each
 * payload (off the main thread where the engine can), loads the cohorts the
 * flags reference through the CohortLoader, then swaps the snapshot, in
 * submission order. A payload that cannot be used is logged and the last
 * good flags stay.
 */
import type { CohortStore } from '../../engine/cohort-store';
import type { ResolvedLocalConfig } from '../../config/local';
import { FetchError, type HttpClient } from '../../util/http';
import type { Logger } from '../../util/logger';
import { isPermanentFailure } from '../../util/retry';
import type { LocalClientInternals } from '../internals';
import type { MetricsSink } from '../../metrics';

/** What a source hands its payloads to (implemented by the client's snapshot holder). */
export interface FlagSink {
  /**
   * Hand over a v2 flag payload (the JSON array `GET /sdk/v2/flags` returns).
   * Parsed off the main thread; installed after every earlier submission and
   * once the cohorts it references are loaded (or failed for good this round).
   * Resolves false when the payload was unusable (logged, previous flags kept);
   * true when it was installed or superseded by a newer install. Never rejects.
   * `from` names the source in logs, events and status ('poll', 'stream', ...).
   */
  submit(payload: string | Uint8Array, from: string): Promise<boolean>;
  /**
   * Parse on the calling thread and install now, ahead of any submission still
   * in flight (which is then dropped): for sources whose flags must be visible
   * to the next evaluation (bootstrap, data sources). Cohorts are not awaited.
   * Returns false when the payload was unusable.
   */
  install(payload: string | Uint8Array, from: string): boolean;
  /**
   * The source confirmed its flags are current without a new payload (a
   * stream keep-alive, an unchanged Redis version): keeps the client fresh.
   */
  refreshed(from: string): void;
  /**
   * A refresh failed (for status and 'error' events); the last good flags
   * stay. Does not log: the source logs as it sees fit. Never throws.
   */
  reportError(from: string, error: unknown): void;
  /** The `from` of the flags in force, or undefined before any were installed. */
  readonly installedFrom: string | undefined;
}

/** Something flags come from. One instance serves one start()..stop() cycle of the client. */
export interface FlagSource {
  /** 'poll' | 'stream' | 'file' | 'data-source' | 'last-known-good' | 'redis-fleet' | 'evaluation-proxy' | ... */
  readonly name: string;
  /**
   * The client is stale when this source has not delivered or confirmed its
   * flags (submit, refreshed) for this long. Undefined: never stale (a file,
   * a data source: their flags are current by definition).
   */
  readonly staleAfterMillis?: number;
  /** Optional: where its flags come from, for logs ("the last-known-good flags saved at ... in ..."). */
  describe?(): string;
  /**
   * Optional: called once when the client is constructed (and again when it
   * is restarted), before start(), for sources that have flags before start()
   * (a data source that pushes synchronously). May call sink.install().
   */
  attach?(sink: FlagSink): void;
  /**
   * Begin delivering. Resolve once the first payload was accepted (or at once
   * when there is nothing to wait for); reject with the reason start() should
   * give (see isPermanentSourceError) when none could be delivered by
   * `deadline` (ms since epoch). Keep refreshing in the background either way
   * until stop(); report background failures through sink.reportError.
   */
  start(sink: FlagSink, deadline: number): Promise<void>;
  /** Stop timers, connections and watchers; abort requests in flight. Idempotent; never throws. */
  stop(): void;
}

/**
 * Where cohort members come from (Amplitude's cohort API today, Redis in the
 * fleet and evaluation-proxy modes). A loader writes into the client's
 * CohortStore (given to it at construction); the holder reads it.
 */
export interface CohortLoader {
  /** Load the cohorts among `ids` the store does not hold. Resolves when each loaded or failed for this round; never rejects. */
  loadMissing(ids: ReadonlySet<string>): Promise<void>;
  /**
   * A snapshot referencing exactly `ids` was installed: drop cohorts no
   * longer referenced, schedule retries for the ones still missing.
   */
  installed(ids: ReadonlySet<string>): void;
  /**
   * Keep the referenced cohorts fresh in the background. `onChange` is called
   * with the ids of the cohorts whose members were replaced by a refresh.
   */
  startRefresh(referenced: () => ReadonlySet<string>, onChange: (changed: ReadonlySet<string>) => void): void;
  /** Idempotent; never throws. */
  stop(): void;
}

/** What a client runs for one start()..stop() cycle; chosen from the config by planSources(). */
export interface SourcePlan {
  /** Where flags come from. */
  primary: FlagSource;
  /**
   * Started when the primary's start() rejects with a non-permanent error,
   * or has not resolved within `afterMillis` (the primary keeps trying in the
   * background). Last-known-good uses this.
   */
  fallback?: { source: FlagSource; afterMillis: number };
  /** Present when flags may reference cohorts that can be loaded. */
  cohorts?: CohortLoader;
}

/** What planSources() and each source factory get to build from. */
export interface SourceContext {
  apiKey: string;
  config: ResolvedLocalConfig;
  internals: LocalClientInternals;
  /** One per start()..stop() cycle: closed by stop(). */
  http: HttpClient;
  logger: Logger;
  /** The client's cohort store, created on first call (a CohortLoader that fills it calls this). */
  cohortStore(): CohortStore;
  /** The client's metrics (config.metrics): sources count fetches, failures and downloads here. */
  metrics?: MetricsSink;
}

/** How often flags are polled or read: the config's interval, or the test-only internals' (below the 1 s floor). */
export function flagPollingIntervalMillis(ctx: SourceContext): number {
  return ctx.internals.flagPolling?.intervalMillis ?? ctx.config.flagConfigPollingIntervalMillis;
}

/**
 * A start failure that retrying or falling back will not fix: a rejected
 * key (401, 403), a wrong URL (404). start() rejects with it at once, without
 * trying the fallback. Any Error with `permanent: true` counts, as does a
 * FetchError that src/util/retry calls permanent.
 */
export function isPermanentSourceError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  if ((error as { permanent?: unknown }).permanent === true) return true;
  return error instanceof FetchError && isPermanentFailure(error);
}
