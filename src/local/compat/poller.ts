/**
 * The official SDK's FlagConfigPoller: fetches flag configs into a
 * FlagConfigCache at start() and then every pollingIntervalMillis, with the
 * same update steps (download the cohorts new flags reference, replace the
 * cache's configs, drop cohorts no flag references, call onChange). Its
 * interval timer is unref'd: a poller never keeps a process alive.
 */
import { LocalEvaluationDefaults } from '../../config/local';
import type { FlagConfig } from '../../types';
import { sleep } from '../../util/backoff';
import { createLogger, type Logger, LogLevel, type LoggerProvider } from '../../util/logger';
import { extractCohortIdsByGroup } from '../cohort-utils';
import type { FlagConfigCache } from './cache';
import type { FlagConfigFetcher } from './fetcher';
import { errorMessage } from '../../util/error-message';

/** A downloaded cohort, as the official SDK's cohort storage holds it. */
export interface Cohort {
  cohortId: string;
  groupType: string;
  groupTypeId: number;
  lastComputed: number;
  lastModified: number;
  size: number;
  memberIds: Set<string>;
}

/** The parts of the official SDK's CohortStorage the poller uses. */
export interface CohortStorage {
  getAllCohortIds(): Set<string>;
  put(cohort: Cohort): void;
  delete(cohortId: string): void;
}

/** The part of the official SDK's CohortFetcher the poller uses. */
export interface CohortFetcher {
  fetch(cohortId: string, lastModified?: number): Promise<Cohort | undefined>;
}

/** Initial fetch: 5 attempts, 1 ms apart, as the official SDK. */
const INITIAL_ATTEMPTS = 5;

export class FlagConfigPoller {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly fetcher: FlagConfigFetcher,
    readonly cache: FlagConfigCache,
    readonly cohortStorage?: CohortStorage | null,
    readonly cohortFetcher?: CohortFetcher | null,
    private readonly pollingIntervalMillis: number = LocalEvaluationDefaults.flagConfigPollingIntervalMillis,
    logLevel: LogLevel = LogLevel.Error,
    loggerProvider?: LoggerProvider,
  ) {
    this.logger = createLogger({ logLevel, loggerProvider });
  }

  /**
   * Fetch the flag configs (rejects after 5 failed attempts, and stops) and
   * poll every interval until stop(). Does nothing while already running.
   */
  async start(onChange?: (cache: FlagConfigCache) => Promise<void>): Promise<void> {
    if (this.timer) return;
    this.logger.debug('poller - start');
    this.timer = setInterval(() => {
      this.update(onChange).catch((err: unknown) => this.logger.debug(`flag config update failed: ${errorMessage(err)}`));
    }, this.pollingIntervalMillis);
    this.timer.unref();
    let lastError: unknown;
    for (let attempt = 0; attempt < INITIAL_ATTEMPTS; attempt++) {
      try {
        const flags = await this.fetcher.fetch();
        await this.apply(flags, onChange);
        return;
      } catch (err) {
        lastError = err;
        if (attempt < INITIAL_ATTEMPTS - 1) await sleep(1);
      }
    }
    this.logger.error(`flag config initial poll failed, stopping: ${errorMessage(lastError)}`);
    this.stop();
    throw lastError;
  }

  stop(): void {
    if (!this.timer) return;
    this.logger.debug('poller - stop');
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fetch once and apply. */
  async update(onChange?: (cache: FlagConfigCache) => Promise<void>): Promise<void> {
    this.logger.debug('updating flag configs');
    await this.apply(await this.fetcher.fetch(), onChange);
  }

  private async apply(flags: Record<string, FlagConfig>, onChange?: (cache: FlagConfigCache) => Promise<void>): Promise<void> {
    const cohortIds = new Set<string>();
    for (const key of Object.keys(flags)) {
      for (const ids of extractCohortIdsByGroup(flags[key] as Record<string, unknown>).values()) {
        for (const id of ids) cohortIds.add(id);
      }
    }
    if (cohortIds.size > 0 && !this.cohortFetcher) {
      this.logger.error('Cohorts found in flag configs but no cohort download configured');
    } else if (this.cohortFetcher && this.cohortStorage) {
      const storage = this.cohortStorage;
      const held = storage.getAllCohortIds();
      await Promise.all(
        [...cohortIds]
          .filter((id) => !held.has(id))
          .map((id) =>
            (this.cohortFetcher as CohortFetcher).fetch(id).then(
              (cohort) => cohort && storage.put(cohort),
              (err: unknown) => this.logger.error(`Cohort download failed ${id}: ${errorMessage(err)}`),
            ),
          ),
      );
    }
    await this.cache.clear();
    await this.cache.putAll(flags);
    if (this.cohortStorage) {
      for (const id of this.cohortStorage.getAllCohortIds()) if (!cohortIds.has(id)) this.cohortStorage.delete(id);
    }
    // The official SDK calls onChange on every update (its change check compares object identity).
    if (onChange) await onChange(this.cache);
  }
}
