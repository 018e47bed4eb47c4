/**
 * Wiring for `redisConfig: { mode: 'evaluation-proxy' }`: one Redis
 * connection (through the project's one connection factory) shared by the
 * flag source and the cohort loader, closed when both have stopped.
 */
import type { CohortStore } from '../engine/cohort-store';
import { flagPollingIntervalMillis, type SourceContext } from '../local/sources/types';
import type { ResolvedRedisConfig } from '../redis/config';
import { createRedisConnection } from '../redis/connection';
import type { Logger } from '../util/logger';
import { EvaluationProxyRedisCohorts, EvaluationProxyRedisSource, ProxyRedisReader } from './redis-source';

export interface EvaluationProxyRedisPlanOptions {
  redisConfig: ResolvedRedisConfig;
  deploymentKey: string;
  pollingIntervalMillis: number;
  logger: Logger;
  store: CohortStore;
}

/** The flag source and cohort loader of `redisConfig.mode: 'evaluation-proxy'`, for planSources. */
export function evaluationProxyRedisSources(ctx: SourceContext): ReturnType<typeof evaluationProxyRedisPlan> {
  const redisConfig = ctx.config.redisConfig;
  if (!redisConfig) throw new Error('redisConfig is not set');
  return evaluationProxyRedisPlan({
    redisConfig,
    deploymentKey: ctx.apiKey,
    pollingIntervalMillis: flagPollingIntervalMillis(ctx),
    logger: ctx.logger,
    store: ctx.cohortStore(),
  });
}

export function evaluationProxyRedisPlan(options: EvaluationProxyRedisPlanOptions): {
  source: EvaluationProxyRedisSource;
  cohorts: EvaluationProxyRedisCohorts;
} {
  const connection = createRedisConnection(options.redisConfig, options.logger, 'amplitude-experiment-evaluation-proxy-reader');
  const reader = new ProxyRedisReader({
    redis: connection.client,
    ready: (deadline) => connection.ready(deadline),
    close: () => connection.close(),
    prefix: options.redisConfig.prefix,
    deploymentKey: options.deploymentKey,
    pollingIntervalMillis: options.pollingIntervalMillis,
    logger: options.logger,
    store: options.store,
  });
  return { source: new EvaluationProxyRedisSource(reader), cohorts: new EvaluationProxyRedisCohorts(reader) };
}
