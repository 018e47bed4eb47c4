/** The official SDK's standalone flag-config classes, with its behaviour (drop-in exports). */
export { InMemoryFlagConfigCache, isFlagConfigCache } from './cache';
export type { FlagConfigCache } from './cache';
export { FlagConfigFetcher } from './fetcher';
export type { SimpleHttpClient } from './fetcher';
export { FlagConfigPoller } from './poller';
export type { Cohort, CohortStorage, CohortFetcher } from './poller';
