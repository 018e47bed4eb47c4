/**
 * Which sources a client runs, chosen from its config (one branch per
 * mode). Called at construction and again at each restart (start() after
 * stop()), with a fresh HttpClient.
 */
import { lazy } from '../../util/lazy';
import { PollSource } from './poll';
import type { CohortLoader, FlagSource, SourceContext, SourcePlan } from './types';

// Each mode's modules are loaded when a client is configured for it: `require()` of the package
// loads only what polling needs (serverless cold starts pay for every module loaded).
/* eslint-disable @typescript-eslint/no-require-imports -- literal requires, loaded lazily, visible to bundlers and file tracers */
const loadCohorts = lazy(() => require('../cohorts') as typeof import('../cohorts'));
const loadPersistence = lazy(() => require('../persistence') as typeof import('../persistence'));
const loadDataSource = lazy(() => require('./data-source') as typeof import('./data-source'));
const loadFileSource = lazy(() => require('./file') as typeof import('./file'));
const loadLastKnownGood = lazy(() => require('./last-known-good') as typeof import('./last-known-good'));
const loadStreamSource = lazy(() => require('./stream') as typeof import('./stream'));
const loadRedisPlan = lazy(() => require('../../proxy/redis-plan') as typeof import('../../proxy/redis-plan'));
const loadFleetSource = lazy(() => require('../../redis/fleet-source') as typeof import('../../redis/fleet-source'));
/* eslint-enable @typescript-eslint/no-require-imports */

export function planSources(ctx: SourceContext): SourcePlan {
  const { config } = ctx;
  let primary: FlagSource;
  if (config.redisConfig?.mode === 'evaluation-proxy') {
    // Flags and cohorts read from the Redis that Amplitude's evaluation-proxy writes.
    const proxy = loadRedisPlan().evaluationProxyRedisSources(ctx);
    return withLastKnownGood(ctx, { primary: proxy.source, cohorts: proxy.cohorts });
  }
  if (config.redisConfig?.mode === 'fleet') {
    // One object: which of Amplitude or Redis serves flags and cohorts depends on this process's fleet role.
    const fleet = new (loadFleetSource().RedisFleetSource)(ctx);
    return withLastKnownGood(ctx, { primary: fleet, cohorts: fleet });
  }
  if (config.flagsFile !== undefined) primary = new (loadFileSource().FileSource)(ctx, config.flagsFile);
  else if (config.dataSource !== undefined) primary = new (loadDataSource().DataSourceSource)(config.dataSource, ctx.logger);
  else if (config.streamUpdates) primary = new (loadStreamSource().StreamSource)(ctx);
  else primary = new PollSource(ctx);

  return withLastKnownGood(ctx, { primary, cohorts: cohortApiLoader(ctx) });
}

function withLastKnownGood(ctx: SourceContext, plan: SourcePlan): SourcePlan {
  const { config } = ctx;
  if (config.persistence) {
    plan.fallback = {
      source: new (loadLastKnownGood().LastKnownGoodSource)(
        new (loadPersistence().FlagPersistence)(config.persistence.path, ctx.logger),
      ),
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
  return new (loadCohorts().CohortSync)({
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
