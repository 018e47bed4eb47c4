/**
 * amplitude-experiment-native: a drop-in for @amplitude/experiment-node-server
 * with a native evaluator. Same exported names, plus the Python SDK's options.
 */
export { Experiment } from './factory';
export { LocalEvaluationClient } from './local/client';
export type { EvaluateOptions, CloseOptions } from './local/client';
export type {
  FlagsUpdatedEvent,
  FlagUpdatedEvent,
  ClientErrorEvent,
  ClientStatus,
  ClientState,
  LocalClientEventName,
  LocalClientEventMap,
  LocalClientListener,
} from './local/events';
export {
  LocalEvaluationDefaults,
  CohortSyncConfigDefaults,
  EvaluationProxyConfigDefaults,
  ExposureConfigDefaults,
  AssignmentConfigDefaults,
} from './config/local';
export type {
  LocalEvaluationConfig,
  AssignmentConfig,
  ExposureConfig,
  CohortSyncConfig,
  EvaluationProxyConfig,
  FlagBootstrap,
  PersistenceConfig,
} from './config/local';
export { FlagConfigFetcher, FlagConfigPoller, InMemoryFlagConfigCache } from './local/compat';
export type { FlagConfigCache, SimpleHttpClient, Cohort, CohortStorage, CohortFetcher } from './local/compat';
export type { EvaluationHook, EvaluationHookContext, EvaluationHookResult } from './local/hooks';
export type { FlagDataSource } from './local/data-source';
export type {
  EvaluationDetail,
  EvaluationDetails,
  EvaluationReason,
  ConditionDetail,
  BucketDetail,
  SegmentDetail,
} from './engine/details';
export { TestData, FlagBuilder, OFF_VARIANT } from './testing/test-data';
export type { TestVariant, Attribute, ConditionOperator, RolloutOptions } from './testing/test-data';
export { RemoteEvaluationClient, ExperimentClient, RemoteEvaluationDefaults, Defaults, FetchError } from './remote';
export type { RemoteEvaluationConfig, ExperimentConfig, FetchOptions, FetchCallback, FetchErrorCode } from './remote';
export { AmplitudeCookie } from './cookie';
export { LogLevel } from './util/logger';
export type { LoggerProvider } from './util/logger';
export { ServerZone, EU_SERVER_URLS, US_SERVER_URLS, ConfigError } from './config/common';
export type { ExperimentUser, Variant, Variants, FlagConfig, EvaluationFlag } from './types';
export { diagnose, formatDiagnosis, FlagPayloadError } from './engine';
export type { EngineDiagnosis } from './engine';
export { VERSION } from './version';
export type { LocalEvaluationMetrics, TrackedEventKind } from './metrics';
