/**
 * The one place flag payloads become the snapshot a client evaluates. Every
 * source hands its payloads here (FlagSink). A payload is parsed as soon as
 * it arrives (off the main thread where the engine can), but installed only
 * after every payload submitted before it and after the cohorts it references
 * are loaded; a newer install wins over an older submission still in flight.
 * An unusable payload (malformed, or one whose every flag is rejected) is
 * logged and the last good flags stay.
 */
// performance: the global (node:perf_hooks itself is not in Node's startup snapshot; loading it costs require() time).
import { type Engine, type FlagSnapshot, FlagPayloadError } from '../../engine';
import type { CohortStore } from '../../engine/cohort-store';
import type { Logger } from '../../util/logger';
import { buildCohortIndex, type CohortIndex } from '../cohort-utils';
import type { CohortLoader, FlagSink } from './types';
import type { MetricsSink } from '../../metrics';
import { errorMessage } from '../../util/error-message';

/** The flags in force and the cohorts they reference (swapped together). */
export interface Installed {
  readonly snapshot: FlagSnapshot;
  /** Undefined when no flag references a cohort (the common case: no per-call work). */
  readonly cohorts: CohortIndex | undefined;
  readonly from: string;
  /** The payload it was parsed from. */
  readonly payload: string | Uint8Array;
  /** False for install() (bootstrap, data sources...): its cohorts were not awaited. */
  readonly cohortsAwaited: boolean;
  /** performance.now() when the payload was handed over (install duration = swap time - this). */
  readonly arrivedAt: number;
}

/** The source name of changes made through client.cache. */
export const CACHE_SOURCE = 'cache';

/** What the holder tells its owner (the client: events, status, persistence). */
export interface HolderObserver {
  /** A new snapshot is in force. */
  installed(next: Installed, previous: Installed | undefined): void;
  /** A source delivered or confirmed its flags (after installed(), when both apply). */
  refreshed(from: string): void;
  /** A refresh failed or a payload was unusable. */
  failed(from: string, error: unknown): void;
}

export interface SnapshotHolderOptions {
  engine: Engine;
  logger: Logger;
  observer: HolderObserver;
  /** Cohorts not loaded are looked up per user (evaluationProxyConfig): no "no cohort download" error. */
  cohortsPerUser?: boolean;
  metrics?: MetricsSink;
}

export class SnapshotHolder implements FlagSink {
  private state: Installed | undefined;
  private cohortLoader: CohortLoader | undefined;
  private cohortStore: CohortStore | undefined;
  /** Installs run one after the other on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private submitted = 0;
  /** Submissions up to this number are dropped when their turn comes (a newer install won). */
  private supersededThrough = 0;
  /** The last payload submitted and the result of its submission (a repeat is not parsed again). */
  private lastSubmitted: { payload: string | Uint8Array; result: Promise<boolean> } | undefined;
  private closed = false;
  private readonly reportedFlags = new Set<string>();
  private readonly reportedCohorts = new Set<string>();
  private warnedNoCohortLoader = false;

  constructor(private readonly options: SnapshotHolderOptions) {}

  /** The flags in force (read once per evaluation). */
  get current(): Installed | undefined {
    return this.state;
  }

  get installedFrom(): string | undefined {
    return this.state?.from;
  }

  get hasFlags(): boolean {
    return this.state !== undefined;
  }

  /** Where the cohorts referenced by installed flags are loaded from (per start()..stop() cycle). */
  useCohorts(loader: CohortLoader | undefined, store: CohortStore | undefined): void {
    this.cohortLoader = loader;
    this.cohortStore = store;
  }

  /** Drop submissions still in flight and refuse new ones (stop()); open() accepts them again (restart). */
  close(): void {
    this.closed = true;
    this.supersededThrough = this.submitted;
    this.lastSubmitted = undefined;
  }

  open(): void {
    this.closed = false;
  }

  /** Resolves once every submission made so far has been installed or dropped. */
  settled(): Promise<void> {
    return this.chain;
  }

  submit(payload: string | Uint8Array, from: string): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const last = this.lastSubmitted;
    if (last !== undefined && samePayload(last.payload, payload)) {
      // The same flags again (the usual poll): no parse, no install, no event; the source is fresh.
      const result = last.result.then((ok) => {
        if (ok && !this.closed) this.options.observer.refreshed(from);
        return ok;
      });
      this.chain = result.then(() => undefined);
      return result;
    }
    const ticket = ++this.submitted;
    const arrivedAt = performance.now();
    const parsed = this.parseAsync(payload, from);
    const run = this.chain.then(async (): Promise<boolean> => {
      const next = await parsed;
      if (!next) return false;
      if (ticket <= this.supersededThrough) return true;
      const cohorts = buildCohortIndex(next);
      if (cohorts && this.cohortLoader) await this.cohortLoader.loadMissing(cohorts.all);
      if (ticket <= this.supersededThrough) return true;
      this.swap({ snapshot: next, cohorts, from, payload, cohortsAwaited: true, arrivedAt });
      this.options.metrics?.onSnapshotInstall(performance.now() - arrivedAt, next.size, from);
      this.options.observer.refreshed(from);
      return true;
    });
    const result = run.catch((err: unknown) => {
      this.options.logger.error(`flag update from ${from} failed: ${errorMessage(err)}`);
      this.options.observer.failed(from, err);
      return false;
    });
    this.lastSubmitted = { payload, result };
    this.chain = result.then(() => undefined);
    return result;
  }

  install(payload: string | Uint8Array, from: string): boolean {
    // Accepted after close() too: evaluation goes on after stop(), and so do changes through client.cache.
    const arrivedAt = performance.now();
    const next = this.parse(payload, from);
    if (!next) return false;
    this.supersededThrough = this.submitted;
    this.lastSubmitted = undefined;
    this.swap({ snapshot: next, cohorts: buildCohortIndex(next), from, payload, cohortsAwaited: false, arrivedAt });
    this.options.metrics?.onSnapshotInstall(performance.now() - arrivedAt, next.size, from);
    this.options.observer.refreshed(from);
    return true;
  }

  refreshed(from: string): void {
    if (!this.closed) this.options.observer.refreshed(from);
  }

  reportError(from: string, error: unknown): void {
    if (!this.closed) this.options.observer.failed(from, error);
  }

  /** Log each referenced cohort that is not loaded, once per cohort (not per evaluation). */
  reportMissingCohorts(): void {
    const cohorts = this.state?.cohorts;
    if (!cohorts || !this.cohortLoader) return;
    const store = this.cohortStore;
    for (const [flagKey, ids] of cohorts.byFlag) {
      const missing: string[] = [];
      for (const id of ids) {
        if (!store?.has(id) && !this.reportedCohorts.has(id)) {
          this.reportedCohorts.add(id);
          missing.push(id);
        }
      }
      if (missing.length > 0) {
        this.options.logger.error(`Flag ${flagKey} has cohort ids ${missing.join(',')} unavailable, evaluation may be incorrect`);
      }
    }
  }

  private swap(next: Installed): void {
    const previous = this.state;
    this.state = next;
    const cohorts = next.cohorts;
    if (cohorts && !this.cohortLoader && !this.options.cohortsPerUser && !this.warnedNoCohortLoader) {
      this.warnedNoCohortLoader = true;
      this.options.logger.error('Cohorts found in flag configs but no cohort download configured (set cohortSyncConfig)');
    }
    this.cohortLoader?.installed(cohorts?.all ?? NO_COHORTS);
    this.reportMissingCohorts();
    this.options.observer.installed(next, previous);
  }

  /**
   * Parse a payload into a snapshot. On a payload that is unusable as a
   * whole, log, report and return undefined. Flags that fail validation are
   * logged once each and left out; the others are served.
   */
  private parse(payload: string | Uint8Array, from: string): FlagSnapshot | undefined {
    try {
      return this.accept(this.options.engine.load(payload, this.options.logger), from);
    } catch (err) {
      this.unusable(err, from);
      return undefined;
    }
  }

  private async parseAsync(payload: string | Uint8Array, from: string): Promise<FlagSnapshot | undefined> {
    const engine = this.options.engine;
    if (engine.loadAsync === undefined) return this.parse(payload, from);
    try {
      return this.accept(await engine.loadAsync(payload, this.options.logger), from);
    } catch (err) {
      this.unusable(err, from);
      return undefined;
    }
  }

  private unusable(err: unknown, from: string): void {
    const why = err instanceof FlagPayloadError ? err.message : `unexpected error: ${errorMessage(err)}`;
    const kept = this.state === undefined ? 'no flags are in force yet' : 'keeping the previous flags';
    this.options.logger.error(`flag configs from ${from} were not applied (${why}); ${kept}`);
    this.options.observer.failed(from, err);
  }

  private accept(next: FlagSnapshot, from: string): FlagSnapshot {
    if (next.size === 0 && next.rejected.length > 0 && from !== CACHE_SOURCE) {
      // Valid JSON but not one usable flag (`[{"garbage":1}]`, `[null]`): a broken payload, not "no flags" (`[]`),
      // so it must not replace the flags in force nor the last-known-good file. (client.cache is the user editing
      // the configs one by one, as in the official SDK: deleting the last valid one leaves what they put.)
      const first = next.rejected
        .slice(0, 3)
        .map((r) => `${JSON.stringify(r.flagKey)}: ${r.reason}`)
        .join('; ');
      const more = next.rejected.length > 3 ? `; and ${next.rejected.length - 3} more` : '';
      throw new FlagPayloadError(`every flag was rejected (${next.rejected.length}): ${first}${more}`);
    }
    for (const r of next.rejected) {
      const line = `flag ${JSON.stringify(r.flagKey)} left out: ${r.reason}`;
      if (!this.reportedFlags.has(line)) {
        this.reportedFlags.add(line);
        this.options.logger.error(line);
      }
    }
    this.options.logger.debug(`loaded ${next.size} flags from ${from}`);
    return next;
  }
}

const NO_COHORTS: ReadonlySet<string> = new Set();

function samePayload(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  if (typeof a !== 'string' && typeof b !== 'string')
    return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
  return false;
}
