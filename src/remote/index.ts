export { RemoteEvaluationClient, ExperimentClient } from './client';
export type { FetchOptions, FetchCallback } from './client';
export { initializeRemote } from './factory';
export { RemoteEvaluationDefaults, Defaults } from '../config/remote';
export type { RemoteEvaluationConfig, ExperimentConfig } from '../config/remote';
export { FetchError } from '../util/http';
export type { FetchErrorCode } from '../util/http';
