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
import { evaluationProxyRedisSources } from '../../proxy/redis-plan';
import { RedisFleetSource } from '../../redis/fleet-source';

export function planSources(ctx: SourceContext): SourcePlan {
  const { config } = ctx;
  let primary: FlagSource;
  if (config.redisConfig?.mode === 'evaluation-proxy') {
    // Flags and cohorts read from the Redis that Amplitude's evaluation-proxy writes.
    const proxy = evaluationProxyRedisSources(ctx);
    return withLastKnownGood(ctx, { primary: proxy.source, cohorts: proxy.cohorts });
  }
  if (config.redisConfig?.mode === 'fleet') {
    // One object: which of Amplitude or Redis serves flags and cohorts depends on this process's fleet role.
    const fleet = new RedisFleetSource(ctx);
    return withLastKnownGood(ctx, { primary: fleet, cohorts: fleet });
  }
  if (config.flagsFile !== undefined) primary = new FileSource(ctx, config.flagsFile);
  else if (config.dataSource !== undefined) primary = new DataSourceSource(config.dataSource);
  else if (config.streamUpdates) primary = new StreamSource(ctx);
  else primary = new PollSource(ctx);

  return withLastKnownGood(ctx, { primary, cohorts: cohortApiLoader(ctx) });
}

function withLastKnownGood(ctx: SourceContext, plan: SourcePlan): SourcePlan {
  const { config } = ctx;
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
    proxyUrl: ctx.config.evaluationProxyConfig?.proxyUrl,
    maxCohortSize: sync.maxCohortSize,
    pollingIntervalMillis: internals.cohortPollingIntervalMillis ?? sync.cohortPollingIntervalMillis,
    http: ctx.http,
    logger: ctx.logger,
    store: ctx.cohortStore(),
    retryBackoff: internals.cohortRetryBackoff,
    missingRetryBackoff: internals.cohortMissingRetryBackoff,
    requestTimeoutMillis: internals.cohortRequestTimeoutMillis,
    metrics: ctx.metrics,
  });
}
