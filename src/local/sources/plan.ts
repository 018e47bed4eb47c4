/**
 * Which sources a client runs, chosen from its config (one branch per
 * mode). Called at construction and again at each restart (start() after
 * stop()), with a fresh HttpClient.
 */
import { CohortSync } from '../cohorts';
import { FlagPersistence } from '../persistence';
import { DataSourceSource } from './data-source';
import { FileSource } from './file';
import { LastKnownGoodSource } from './last-known-good';
import { PollSource } from './poll';
import { StreamSource } from './stream';
import type { CohortLoader, FlagSource, SourceContext, SourcePlan } from './types';

export function planSources(ctx: SourceContext): SourcePlan {
  const { config } = ctx;
  let primary: FlagSource;
  if (config.flagsFile !== undefined) primary = new FileSource(ctx, config.flagsFile);
  else if (config.dataSource !== undefined) primary = new DataSourceSource(config.dataSource);
  else if (config.streamUpdates) primary = new StreamSource(ctx);
  else primary = new PollSource(ctx);

  const plan: SourcePlan = { primary, cohorts: cohortApiLoader(ctx) };
  if (config.persistence) {
    plan.fallback = {
      source: new LastKnownGoodSource(new FlagPersistence(config.persistence.path, ctx.logger)),
      // Defaulted and capped at startTimeoutMillis by the config table.
      afterMillis: config.persistence.startFallbackMillis,
    };
  }
  return plan;
}

/** Amplitude's cohort API, when cohortSyncConfig is set. */
export function cohortApiLoader(ctx: SourceContext): CohortLoader | undefined {
  const sync = ctx.config.cohortSyncConfig;
  if (!sync) return undefined;
  const internals = ctx.internals;
  return new CohortSync({
    apiKey: sync.apiKey,
    secretKey: sync.secretKey,
    cohortServerUrl: sync.cohortServerUrl,
    maxCohortSize: sync.maxCohortSize,
    pollingIntervalMillis: internals.cohortPollingIntervalMillis ?? sync.cohortPollingIntervalMillis,
    http: ctx.http,
    logger: ctx.logger,
    store: ctx.cohortStore(),
    retryBackoff: internals.cohortRetryBackoff,
    missingRetryBackoff: internals.cohortMissingRetryBackoff,
    requestTimeoutMillis: internals.cohortRequestTimeoutMillis,
  });
}
